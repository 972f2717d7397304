import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryNTimes;

/**
 * Contends for Curator's InterProcessMutex on a lock path, K times; under each hold it increments a
 * shared counter node with an unguarded read-modify-write (read, sleep, write value+1), so the final
 * counter equals the number of acquisitions only if every hold was exclusive.
 *
 * Usage: CuratorMutexContender <connectString> <lockPath> <counterPath> <iterations>
 * Prints "ready", then one "enter <n>"/"exit <n>" pair per hold, then "done <n>"; exit code 0 on success.
 */
public final class CuratorMutexContender {
    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: CuratorMutexContender <connectString> <lockPath> <counterPath> <iterations>");
            System.exit(2);
        }
        String connect = args[0], lockPath = args[1], counterPath = args[2];
        int iterations = Integer.parseInt(args[3]);
        try (CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(connect).sessionTimeoutMs(10000).connectionTimeoutMs(10000)
                .retryPolicy(new RetryNTimes(5, 100)).build()) {
            client.start();
            if (!client.blockUntilConnected(20, TimeUnit.SECONDS)) {
                System.err.println("could not connect to " + connect);
                System.exit(3);
            }
            InterProcessMutex mutex = new InterProcessMutex(client, lockPath);
            System.out.println("ready");
            System.out.flush();
            for (int i = 0; i < iterations; i++) {
                if (!mutex.acquire(30, TimeUnit.SECONDS)) {
                    System.err.println("acquire timed out");
                    System.exit(4);
                }
                try {
                    System.out.println("enter " + i);
                    byte[] data = client.getData().forPath(counterPath);
                    long value = Long.parseLong(new String(data, StandardCharsets.UTF_8).trim());
                    Thread.sleep(2);  // widen the critical section: a lost update would show
                    client.setData().forPath(counterPath, Long.toString(value + 1).getBytes(StandardCharsets.UTF_8));
                    System.out.println("exit " + i);
                } finally {
                    mutex.release();
                }
            }
            System.out.println("done " + iterations);
            System.out.flush();
        }
    }
}
