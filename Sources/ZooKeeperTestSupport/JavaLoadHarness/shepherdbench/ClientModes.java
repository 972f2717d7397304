package shepherdbench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/** Modes on Apache ZooKeeper's plain Java client, shaped as zk-bench's {@code latency} and {@code throughput}. */
final class ClientModes {
    private ClientModes() {}

    static final List<String> LATENCY_OPERATIONS = List.of("create", "exists_miss", "get", "set", "delete");
    static final List<String> THROUGHPUT_OPERATIONS = List.of("create", "get", "set", "delete");

    /**
     * One session, one request in flight. Each operation runs N times in turn over N nodes: create,
     * exists on a missing node (a round trip without disk), getData, setData, delete; an unmeasured
     * warm-up cycle first.
     */
    static Map<String, Object> latency(Options options) throws Exception {
        Workspace workspace = new Workspace("latency", options);
        int ops = options.whole("ops", 2000, 1, 1_000_000);
        int warmupOps = options.whole("warmup-ops", 200, 0, 1_000_000);
        byte[] data = new byte[options.whole("size", 100, 0, 1 << 20)];
        options.finish();
        try (workspace) {
            workspace.start();
            ZooKeeper zk = workspace.zooKeeper();
            cycle(zk, workspace.base + "/w", warmupOps, data);
            return cycle(zk, workspace.base + "/n", ops, data);
        }
    }

    private static Map<String, Object> cycle(ZooKeeper zk, String prefix, int count, byte[] data) throws Exception {
        Map<String, Object> summaries = new LinkedHashMap<>();
        String missing = prefix + "-missing";
        for (String operation : LATENCY_OPERATIONS) {
            Latencies latencies = new Latencies();
            for (int i = 0; i < count; i++) {
                String path = prefix + i;
                long started = System.nanoTime();
                switch (operation) {
                    case "create": zk.create(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT); break;
                    case "exists_miss": zk.exists(missing, false); break;
                    case "get": zk.getData(path, false, null); break;
                    case "set": zk.setData(path, data, -1); break;
                    default: zk.delete(path, -1); break;
                }
                latencies.add(System.nanoTime() - started);
            }
            summaries.put(operation, latencies.micros());
        }
        return summaries;
    }

    /**
     * --clients sessions, each keeping --outstanding async requests in flight (a semaphore window, as
     * Apache's client is meant to be pipelined), one timed phase per operation in --ops order: create
     * makes new nodes, get and set cycle over the session's live nodes, delete removes them oldest
     * first. Afterwards, untimed, whatever is left is deleted.
     */
    static Map<String, Object> throughput(Options options) throws Exception {
        Workspace workspace = new Workspace("throughput", options);
        int clients = options.whole("clients", 1, 1, 256);
        int outstanding = options.whole("outstanding", 16, 1, 10_000);
        byte[] data = new byte[options.whole("size", 100, 0, 1 << 20)];
        List<String> operations = Arrays.asList(options.text("ops", "create,get,set").split(","));
        double seconds = options.decimal("seconds", 3, 0.1, 3600);
        double warmup = options.decimal("warmup", 1, 0, 3600);
        options.finish();
        for (String operation : operations) {
            if (!THROUGHPUT_OPERATIONS.contains(operation)) {
                throw new Options.UsageError("--ops takes " + String.join(",", THROUGHPUT_OPERATIONS) + ", not " + operation);
            }
        }
        try (workspace) {
            workspace.start();
            List<Pipeline> pipelines = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                Pipeline pipeline = new Pipeline(workspace.zooKeeper(), workspace.base + "/c" + i, outstanding, data);
                pipeline.zk.create(pipeline.directory, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                pipelines.add(pipeline);
            }
            Map<String, Object> results = new LinkedHashMap<>();
            results.put("outstanding_total", clients * outstanding);
            long errors = 0;
            for (String operation : operations) {
                // get and set need nodes: as zk-bench does, create a few first (untimed) if none are live.
                if (!operation.equals("create") && pipelines.stream().anyMatch(p -> p.live() == 0)) {
                    runPhase(pipelines, new Phase("create", Math.max(1000, outstanding)), 0, Double.POSITIVE_INFINITY);
                }
                Phase phase = new Phase(operation, Long.MAX_VALUE);
                Map<String, Object> result = runPhase(pipelines, phase, warmup, seconds);
                errors += phase.errors.sum();
                results.put(operation, result);
            }
            runPhase(pipelines, new Phase("delete", Long.MAX_VALUE), 0, Double.POSITIVE_INFINITY);
            results.put("errors", errors);
            return results;
        }
    }

    /** One phase: the operation, how many requests each session may issue, and what completed. */
    private static final class Phase {
        final String operation;
        final long perSession;
        final LongAdder completed = new LongAdder();
        final LongAdder errors = new LongAdder();
        volatile boolean measuring;
        volatile boolean stopping;

        Phase(String operation, long perSession) {
            this.operation = operation;
            this.perSession = perSession;
        }
    }

    /**
     * Runs {@code phase} on every pipeline: unmeasured for {@code warmup} seconds, then measured for
     * {@code seconds} (infinity: as long as it takes) or until every session ran out of work (a
     * counted phase, or nodes to get, set or delete).
     */
    private static Map<String, Object> runPhase(List<Pipeline> pipelines, Phase phase, double warmup, double seconds)
            throws InterruptedException {
        CountDownLatch issuersDone = new CountDownLatch(pipelines.size());
        List<Thread> issuers = new ArrayList<>();
        for (Pipeline pipeline : pipelines) {
            pipeline.begin(phase);
            Thread issuer = new Thread(() -> {
                try {
                    pipeline.issue();
                } catch (InterruptedException stop) {
                    Thread.currentThread().interrupt();
                } finally {
                    issuersDone.countDown();
                }
            }, "issuer-" + pipeline.directory);
            issuers.add(issuer);
            issuer.start();
        }
        issuersDone.await((long) (warmup * 1e9), TimeUnit.NANOSECONDS);
        long start = System.nanoTime();
        phase.measuring = true;
        if (seconds == Double.POSITIVE_INFINITY) issuersDone.await();
        else issuersDone.await((long) (seconds * 1e9), TimeUnit.NANOSECONDS);
        // As zk-bench: what completes after the window (requests still in flight) is not counted.
        phase.measuring = false;
        long end = System.nanoTime();
        long completed = phase.completed.sum();
        phase.stopping = true;
        for (Thread issuer : issuers) issuer.join();
        for (Pipeline pipeline : pipelines) pipeline.drain();
        double elapsed = (end - start) / 1e9;
        List<Latencies> latencies = new ArrayList<>();
        for (Pipeline pipeline : pipelines) latencies.add(pipeline.latencies);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("ops_per_s", elapsed > 0 ? Latencies.round(completed / elapsed) : 0.0);
        result.put("completed", completed);
        result.put("seconds", Latencies.round(elapsed));
        result.put("errors", phase.errors.sum());
        result.put("latency", Latencies.merge(latencies).micros());
        return result;
    }

    /**
     * One session's window of async requests. Its live nodes are {@code directory/n<removed>} to
     * {@code directory/n<created - 1>}; only the issuer thread moves those counters. Completions run
     * on the session's event thread, the only writer of {@link #latencies} during a phase.
     */
    private static final class Pipeline implements AsyncCallback.StringCallback, AsyncCallback.DataCallback,
            AsyncCallback.StatCallback, AsyncCallback.VoidCallback {
        final ZooKeeper zk;
        final String directory;
        final int depth;
        final Semaphore window;
        final byte[] data;
        long created;
        long removed;
        volatile Phase phase;
        volatile Latencies latencies = new Latencies();

        Pipeline(ZooKeeper zk, String directory, int depth, byte[] data) {
            this.zk = zk;
            this.directory = directory;
            this.depth = depth;
            this.window = new Semaphore(depth);
            this.data = data;
        }

        long live() { return created - removed; }

        void begin(Phase next) {
            latencies = new Latencies();
            phase = next;
        }

        /** Issues requests while the phase runs, at most {@code depth} unanswered at a time. */
        void issue() throws InterruptedException {
            Phase current = phase;
            for (long issued = 0; !current.stopping && issued < current.perSession; issued++) {
                String path;
                switch (current.operation) {
                    case "create":
                        path = directory + "/n" + created++;
                        break;
                    case "delete":
                        if (live() == 0) return;
                        path = directory + "/n" + removed++;
                        break;
                    default:
                        if (live() == 0) return;
                        path = directory + "/n" + (removed + issued % live());
                        break;
                }
                window.acquire();
                Long started = System.nanoTime();
                switch (current.operation) {
                    case "create": zk.create(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, this, started); break;
                    case "get": zk.getData(path, false, this, started); break;
                    case "set": zk.setData(path, data, -1, this, started); break;
                    default: zk.delete(path, -1, this, started); break;
                }
            }
        }

        /** Waits for every request in flight. */
        void drain() throws InterruptedException {
            window.acquire(depth);
            window.release(depth);
        }

        private void completed(int rc, Object started) {
            Phase current = phase;
            if (rc != KeeperException.Code.OK.intValue()) {
                current.errors.increment();
            } else if (current.measuring) {
                current.completed.increment();
                latencies.add(System.nanoTime() - (Long) started);
            }
            window.release();
        }

        @Override public void processResult(int rc, String path, Object ctx, String name) { completed(rc, ctx); }
        @Override public void processResult(int rc, String path, Object ctx, byte[] bytes, Stat stat) { completed(rc, ctx); }
        @Override public void processResult(int rc, String path, Object ctx, Stat stat) { completed(rc, ctx); }
        @Override public void processResult(int rc, String path, Object ctx) { completed(rc, ctx); }
    }
}
