package shepherdbench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooKeeper;

/**
 * Modes on Curator's recipes (Debian's Curator 5.4), shaped as zk-bench's {@code mutex} and
 * {@code rwlock}, plus LeaderLatch failover. Every participant has its own session.
 */
final class LockModes {
    private LockModes() {}

    /** --clients sessions loop acquire, guarded increment, release on one InterProcessMutex. */
    static Map<String, Object> mutex(Options options) throws Exception {
        Workspace workspace = new Workspace("mutex", options);
        int clients = options.whole("clients", 8, 1, 256);
        Window window = new Window(options);
        options.finish();
        try (workspace) {
            Contention run = contend(workspace, window, clients, clients, "mutex",
                    (session, path, index) -> new InterProcessMutex(session, path));
            long[] counts = Tally.counts(run.tallies);
            long total = Arrays.stream(counts).sum();
            Map<String, Object> results = new LinkedHashMap<>();
            results.put("acquisitions_per_s", window.rate(total));
            results.put("acquisitions", total);
            results.put("acquire", Tally.merged(run.tallies, 0, clients, true));
            results.put("release", Tally.merged(run.tallies, 0, clients, false));
            results.put("per_client_min", Arrays.stream(counts).min().orElse(0));
            results.put("per_client_max", Arrays.stream(counts).max().orElse(0));
            results.put("violations", run.exclusion.violations());
            results.put("errors", Tally.timeouts(run.tallies));
            return results;
        }
    }

    /** --writers sessions on the write lock (guarded increment), --readers on the read lock (guarded check). */
    static Map<String, Object> readWriteLock(Options options) throws Exception {
        Workspace workspace = new Workspace("rwlock", options);
        int writers = options.whole("writers", 2, 0, 256);
        int readers = options.whole("readers", 6, 0, 256);
        Window window = new Window(options);
        options.finish();
        if (writers + readers == 0) throw new Options.UsageError("rwlock needs at least one of --writers and --readers");
        int sessions = writers + readers;
        try (workspace) {
            Contention run = contend(workspace, window, sessions, writers, "rwlock", (session, path, index) -> {
                InterProcessReadWriteLock lock = new InterProcessReadWriteLock(session, path);
                return index < writers ? lock.writeLock() : lock.readLock();
            });
            long[] counts = Tally.counts(run.tallies);
            long writes = Arrays.stream(counts, 0, writers).sum();
            long reads = Arrays.stream(counts, writers, sessions).sum();
            Map<String, Object> results = new LinkedHashMap<>();
            results.put("ops_per_s", window.rate(reads + writes));
            results.put("reads_per_s", window.rate(reads));
            results.put("writes_per_s", window.rate(writes));
            results.put("read_acquire", Tally.merged(run.tallies, writers, sessions, true));
            results.put("write_acquire", Tally.merged(run.tallies, 0, writers, true));
            results.put("release", Tally.merged(run.tallies, 0, sessions, false));
            results.put("violations", run.exclusion.violations());
            results.put("errors", Tally.timeouts(run.tallies));
            return results;
        }
    }

    /** Which lock worker {@code index} takes, on its own session, at {@code path}. */
    private interface LockChoice {
        InterProcessMutex lock(CuratorFramework session, String path, int index);
    }

    /** What a contention window left: each worker's tally and the witness's verdict. */
    private static final class Contention {
        final Tally[] tallies;
        final Exclusion exclusion;

        Contention(Tally[] tallies, Exclusion exclusion) {
            this.tallies = tallies;
            this.exclusion = exclusion;
        }
    }

    /**
     * Starts the run, opens {@code sessions} Curator sessions and runs the window: each worker loops
     * on its lock at {@code base/name}; workers below {@code writers} write inside, the rest read.
     */
    private static Contention contend(Workspace workspace, Window window, int sessions, int writers, String name,
            LockChoice choice) throws Exception {
        workspace.start();
        List<CuratorFramework> clients = workspace.curators(sessions);
        String path = workspace.base + "/" + name;
        Exclusion exclusion = new Exclusion();
        Tally[] tallies = new Tally[sessions];
        window.run(sessions, index -> {
            Tally tally = tallies[index] = new Tally();
            InterProcessMutex lock = choice.lock(clients.get(index), path, index);
            Runnable section = index < writers ? exclusion::write : exclusion::read;
            while (!window.stopping()) tally.cycle(lock, window, section);
        });
        return new Contention(tallies, exclusion);
    }

    /** What one worker measured: cycles that ended inside the measured window, and timed-out acquires. */
    private static final class Tally {
        final Latencies acquire = new Latencies();
        final Latencies release = new Latencies();
        long count;
        long timeouts;

        /** acquire, section, release; a timed-out acquire counts as an error and the loop goes on (as zk-bench). */
        void cycle(InterProcessMutex lock, Window window, Runnable section) throws Exception {
            long started = System.nanoTime();
            if (!lock.acquire(Window.ACQUIRE_TIMEOUT_S, TimeUnit.SECONDS)) {
                timeouts++;
                return;
            }
            long acquired = System.nanoTime();
            section.run();
            long sectionEnd = System.nanoTime();
            lock.release();
            long released = System.nanoTime();
            if (window.measuring()) {
                acquire.add(acquired - started);
                release.add(released - sectionEnd);
                count++;
            }
        }

        // Read after Window.run has joined every worker thread, so plain fields are safe.
        static long[] counts(Tally[] tallies) {
            return Arrays.stream(tallies).mapToLong(t -> t == null ? 0 : t.count).toArray();
        }

        static long timeouts(Tally[] tallies) {
            return Arrays.stream(tallies).mapToLong(t -> t == null ? 0 : t.timeouts).sum();
        }

        static Map<String, Object> merged(Tally[] tallies, int from, int to, boolean acquires) {
            List<Latencies> parts = new ArrayList<>();
            for (int i = from; i < to; i++) {
                if (tallies[i] != null) parts.add(acquires ? tallies[i].acquire : tallies[i].release);
            }
            return Latencies.merge(parts).micros();
        }
    }

    /**
     * --participants LeaderLatch sessions. Each of --rounds closes the leader's session (as a crashed
     * leader's would end) and times until another participant is told it leads; then checks that
     * exactly one live participant leads, and puts a fresh session in the closed one's place so every
     * round starts with all participants waiting.
     */
    static Map<String, Object> leader(Options options) throws Exception {
        // The sessions this mode closes on purpose make Curator log errors that mean nothing here.
        System.setProperty("org.slf4j.simpleLogger.log.org.apache.curator", "off");
        Workspace workspace = new Workspace("leader", options);
        int participants = options.whole("participants", 3, 2, 64);
        int rounds = options.whole("rounds", 5, 1, 10_000);
        options.finish();
        try (workspace) {
            workspace.start();
            ZooKeeper observer = workspace.zooKeeper();
            String path = workspace.base + "/leader";
            BlockingQueue<long[]> elected = new LinkedBlockingQueue<>(); // {slot, nanoTime}
            LeaderLatch[] latches = new LeaderLatch[participants];
            CuratorFramework[] sessions = new CuratorFramework[participants];
            try {
                for (int slot = 0; slot < participants; slot++) join(workspace, path, slot, sessions, latches, elected);
                long[] first = elected.poll(Window.ACQUIRE_TIMEOUT_S, TimeUnit.SECONDS);
                if (first == null) throw new IllegalStateException("no participant was elected");
                int leader = (int) first[0];
                Latencies failover = new Latencies();
                Latencies close = new Latencies();
                long violations = 0;
                for (int round = 0; round < rounds; round++) {
                    awaitChildren(observer, path, participants);
                    elected.clear();
                    long started = System.nanoTime();
                    sessions[leader].close();
                    close.add(System.nanoTime() - started);
                    long[] next;
                    do {
                        next = elected.poll(Window.ACQUIRE_TIMEOUT_S, TimeUnit.SECONDS);
                        if (next == null) throw new IllegalStateException("nobody took over in round " + round);
                    } while (next[0] == leader);
                    failover.add(next[1] - started);
                    int leading = 0;
                    for (int slot = 0; slot < participants; slot++) {
                        if (slot != leader && latches[slot].hasLeadership()) leading++;
                    }
                    if (leading != 1) violations++;
                    closeQuietly(latches[leader]);
                    join(workspace, path, leader, sessions, latches, elected);
                    leader = (int) next[0];
                }
                Map<String, Object> results = new LinkedHashMap<>();
                results.put("rounds", rounds);
                results.put("failover", failover.millis());
                results.put("close", close.millis());
                results.put("violations", violations);
                results.put("errors", 0);
                return results;
            } finally {
                for (LeaderLatch latch : latches) closeQuietly(latch);
            }
        }
    }

    private static void join(Workspace workspace, String path, int slot, CuratorFramework[] sessions,
            LeaderLatch[] latches, BlockingQueue<long[]> elected) throws Exception {
        sessions[slot] = workspace.curator();
        LeaderLatch latch = new LeaderLatch(sessions[slot], path, "p" + slot);
        latch.addListener(new LeaderLatchListener() {
            @Override public void isLeader() { elected.add(new long[] {slot, System.nanoTime()}); }
            @Override public void notLeader() {}
        });
        latch.start();
        latches[slot] = latch;
    }

    /** A latch whose session is gone (closed by a round) cannot delete its node; nothing to report. */
    private static void closeQuietly(LeaderLatch latch) {
        if (latch == null) return;
        try {
            latch.close();
        } catch (Exception ignored) {
            // closed already, or its session is
        }
    }

    /** Waits (on a child watch, bounded) until {@code path} has at least {@code count} children. */
    private static void awaitChildren(ZooKeeper zk, String path, int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Window.ACQUIRE_TIMEOUT_S);
        while (true) {
            CountDownLatch changed = new CountDownLatch(1);
            int children;
            try {
                children = zk.getChildren(path, event -> changed.countDown()).size();
            } catch (KeeperException.NoNodeException notYet) {
                children = zk.exists(path, event -> changed.countDown()) == null ? 0 : -1;
            }
            if (children >= count) return;
            // -1: created between the two calls; read again at once.
            if (children >= 0 && !changed.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
                throw new IllegalStateException(path + " did not reach " + count + " participants in "
                        + Window.ACQUIRE_TIMEOUT_S + " s");
            }
        }
    }
}
