import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListenerAdapter;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.zookeeper.CreateMode;
import org.apache.curator.retry.RetryNTimes;

/**
 * Contends for Curator's InterProcessMutex on a lock path, K times; under each hold it increments a
 * shared counter node with an unguarded read-modify-write (read, a round trip, write value+1), so the final
 * counter equals the number of acquisitions only if every hold was exclusive.
 *
 * Usage: CuratorMutexContender <connectString> <lockPath> <counterPath> <iterations> [mutex|write|read]
 * Mode "mutex" (default) uses InterProcessMutex; "write" the write half of InterProcessReadWriteLock (same
 * increment); "read" its read half: it reads the counter twice with a pause between and fails (exit 5) if
 * the value changed, i.e. if a writer got in during a read hold. "semaphore:N" takes a lease of an
 * InterProcessSemaphoreV2 with N leases; <counterPath> is then a directory: under each lease it creates an
 * ephemeral-sequential child "j-", lists the directory and fails (exit 6) if it has more than N children.
 * Mode "selector" runs Curator's LeaderSelector (autoRequeue) on <lockPath>, incrementing once per term.
 * Mode "latch" joins a LeaderLatch election on <lockPath> per iteration, increments while leading, then closes.
 * Prints "ready", then one "enter <n>"/"exit <n>" pair per hold, then "done <n>"; exit code 0 on success.
 */
public final class CuratorMutexContender {
    public static void main(String[] args) throws Exception {
        if (args.length != 4 && args.length != 5) {
            System.err.println("usage: CuratorMutexContender <connectString> <lockPath> <counterPath> <iterations> [mutex|write|read|semaphore:N]");
            System.exit(2);
        }
        String connect = args[0], lockPath = args[1], counterPath = args[2];
        int iterations = Integer.parseInt(args[3]);
        String mode = args.length == 5 ? args[4] : "mutex";
        try (CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(connect).sessionTimeoutMs(10000).connectionTimeoutMs(10000)
                .retryPolicy(new RetryNTimes(5, 100)).build()) {
            client.start();
            if (!client.blockUntilConnected(20, TimeUnit.SECONDS)) {
                System.err.println("could not connect to " + connect);
                System.exit(3);
            }
            if (mode.startsWith("semaphore:")) {
                int maxLeases = Integer.parseInt(mode.substring("semaphore:".length()));
                InterProcessSemaphoreV2 semaphore = new InterProcessSemaphoreV2(client, lockPath, maxLeases);
                System.out.println("ready");
                System.out.flush();
                for (int i = 0; i < iterations; i++) {
                    Lease lease = semaphore.acquire(30, TimeUnit.SECONDS);
                    if (lease == null) {
                        System.err.println("acquire timed out");
                        System.exit(4);
                    }
                    try {
                        System.out.println("enter " + i);
                        String mine = client.create().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(counterPath + "/j-");
                        int holders = client.getChildren().forPath(counterPath).size();
                        if (holders > maxLeases) {
                            System.err.println(holders + " holders of a " + maxLeases + "-lease semaphore");
                            System.exit(6);
                        }
                        client.checkExists().forPath("/");  // a round trip while holding the lease
                        client.delete().forPath(mine);
                        System.out.println("exit " + i);
                    } finally {
                        semaphore.returnLease(lease);
                    }
                }
                System.out.println("done " + iterations);
                System.out.flush();
                return;
            }
            if (mode.equals("selector")) {
                // Curator's own LeaderSelector (autoRequeue): each term increments the counter, then
                // relinquishes leadership by returning from takeLeadership.
                AtomicInteger terms = new AtomicInteger();
                CountDownLatch done = new CountDownLatch(1);
                LeaderSelector selector = new LeaderSelector(client, lockPath, new LeaderSelectorListenerAdapter() {
                    @Override
                    public void takeLeadership(CuratorFramework c) throws Exception {
                        int i = terms.get();
                        if (i >= iterations) { done.countDown(); return; }
                        System.out.println("enter " + i);
                        long value = read(c, counterPath);
                        c.checkExists().forPath("/");  // a round trip inside the section
                        c.setData().forPath(counterPath, Long.toString(value + 1).getBytes(StandardCharsets.UTF_8));
                        System.out.println("exit " + i);
                        if (terms.incrementAndGet() >= iterations) done.countDown();
                    }
                });
                selector.setId("java");
                selector.autoRequeue();
                System.out.println("ready");
                System.out.flush();
                selector.start();
                if (!done.await(60, TimeUnit.SECONDS)) {
                    System.err.println("only " + terms.get() + " terms");
                    System.exit(4);
                }
                selector.close();
                System.out.println("done " + iterations);
                System.out.flush();
                return;
            }
            if (mode.equals("latch")) {
                // Each iteration joins the election with a new LeaderLatch, waits to lead, increments the
                // counter as leader, and leaves (close), handing leadership to the next participant.
                System.out.println("ready");
                System.out.flush();
                for (int i = 0; i < iterations; i++) {
                    LeaderLatch latch = new LeaderLatch(client, lockPath, "java-" + i);
                    latch.start();
                    try {
                        if (!latch.await(30, TimeUnit.SECONDS)) {
                            System.err.println("leadership timed out");
                            System.exit(4);
                        }
                        System.out.println("enter " + i);
                        long value = read(client, counterPath);
                        client.checkExists().forPath("/");  // a round trip inside the section
                        client.setData().forPath(counterPath, Long.toString(value + 1).getBytes(StandardCharsets.UTF_8));
                        System.out.println("exit " + i);
                    } finally {
                        latch.close();
                    }
                }
                System.out.println("done " + iterations);
                System.out.flush();
                return;
            }
            InterProcessMutex mutex;
            switch (mode) {
                case "mutex": mutex = new InterProcessMutex(client, lockPath); break;
                case "write": mutex = new InterProcessReadWriteLock(client, lockPath).writeLock(); break;
                case "read": mutex = new InterProcessReadWriteLock(client, lockPath).readLock(); break;
                default: System.err.println("unknown mode " + mode); System.exit(2); return;
            }
            System.out.println("ready");
            System.out.flush();
            for (int i = 0; i < iterations; i++) {
                if (!mutex.acquire(30, TimeUnit.SECONDS)) {
                    System.err.println("acquire timed out");
                    System.exit(4);
                }
                try {
                    System.out.println("enter " + i);
                    long value = read(client, counterPath);
                    client.checkExists().forPath("/");  // widen the critical section (a round trip): a lost update or torn read would show
                    if (mode.equals("read")) {
                        long again = read(client, counterPath);
                        if (again != value) {
                            System.err.println("counter changed during a read hold: " + value + " -> " + again);
                            System.exit(5);
                        }
                    } else {
                        client.setData().forPath(counterPath, Long.toString(value + 1).getBytes(StandardCharsets.UTF_8));
                    }
                    System.out.println("exit " + i);
                } finally {
                    mutex.release();
                }
            }
            System.out.println("done " + iterations);
            System.out.flush();
        }
    }

    private static long read(CuratorFramework client, String path) throws Exception {
        return Long.parseLong(new String(client.getData().forPath(path), StandardCharsets.UTF_8).trim());
    }
}
