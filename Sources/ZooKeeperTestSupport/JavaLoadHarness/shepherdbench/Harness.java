package shepherdbench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Java reference side of zk-bench: Apache ZooKeeper's own client and Curator's recipes under
 * the same load zk-bench puts on Shepherd. {@code Harness MODE --connect HOST:PORT [--option value ...]}
 * prints exactly one JSON line on stdout ({@code mode}, {@code params}, {@code results}, {@code ok},
 * or {@code error}); diagnostics go to stderr. Exit status: 0 ok, 1 failure, 2 usage error, 3 the
 * run finished but counted violations or failed operations (they are in the JSON).
 */
public final class Harness {
    static final String USAGE = String.join("\n",
        "usage: Harness MODE --connect HOST:PORT[,HOST:PORT...] [--option value ...]",
        "  latency     --ops 2000 --warmup-ops 200 --size 100",
        "              one session, one request in flight: create, exists (missing node), get, set, delete",
        "  throughput  --clients 1 --outstanding 16 --ops create,get,set --size 100 --seconds 3 --warmup 1",
        "              each session keeps --outstanding async requests in flight; one timed phase per op",
        "  mutex       --clients 8 --seconds 5 --warmup 1            Curator InterProcessMutex",
        "  rwlock      --writers 2 --readers 6 --seconds 5 --warmup 1  Curator InterProcessReadWriteLock",
        "  leader      --participants 3 --rounds 5                   Curator LeaderLatch failover",
        "every mode: --session-timeout-ms 10000 --connection-timeout-ms 5000");

    private Harness() {}

    public static void main(String[] argv) {
        if (argv.length == 0 || argv[0].startsWith("-")) {
            System.err.println(USAGE);
            System.exit(2);
        }
        String mode = argv[0];
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("mode", mode);
        long started = System.nanoTime();
        int status;
        try {
            Options options = new Options(argv, 1);
            out.put("params", options.echo());
            Map<String, Object> results = run(mode, options);
            long bad = count(results.get("violations")) + count(results.get("errors"));
            out.put("results", results);
            out.put("ok", bad == 0);
            status = bad == 0 ? 0 : 3;
        } catch (Options.UsageError error) {
            System.err.println("shepherd-bench-java: " + error.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        } catch (Throwable failure) {
            if (Workspace.terminating) {
                System.err.println("shepherd-bench-java: terminated; removing the run's sessions and nodes");
            } else {
                failure.printStackTrace();
            }
            Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
            out.put("ok", false);
            out.put("error", failure == cause ? String.valueOf(failure) : failure.getMessage() + ": " + cause);
            status = 1;
        }
        out.put("elapsed_s", Latencies.round((System.nanoTime() - started) / 1e9));
        out.put("java", System.getProperty("java.version"));
        System.out.println(Json.write(out));
        System.out.flush();
        // The clients are closed by now, but ZooKeeper and Curator may leave non-daemon threads winding down.
        System.exit(status);
    }

    private static Map<String, Object> run(String mode, Options options) throws Exception {
        switch (mode) {
            case "latency": return ClientModes.latency(options);
            case "throughput": return ClientModes.throughput(options);
            case "mutex": return LockModes.mutex(options);
            case "rwlock": return LockModes.readWriteLock(options);
            case "leader": return LockModes.leader(options);
            default: throw new Options.UsageError("unknown mode " + mode);
        }
    }

    private static long count(Object value) {
        return value instanceof Number ? ((Number) value).longValue() : 0;
    }
}
