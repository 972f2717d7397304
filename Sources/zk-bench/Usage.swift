enum Usage {
    static let text = """
        usage: zk-bench MODE (--connect HOST:PORT | --embedded | --start-apache) [options]
               zk-bench servers [options]
               zk-bench ensembles [options]
               zk-bench fuzz [options]

        modes:
          latency     sequential create / exists (missing node) / get / set / delete, one request in flight
                      --ops 2000 --warmup-ops 200 --size 100
          throughput  pipelined ops/s at each outstanding level (per connection)
                      --op create,get,set (any of create|get|set|delete, run in that order)
                      --outstanding 1,16,256 --connections 1 --size 100
                      --seconds 3 --warmup 1 | --ops N (a fixed number of requests per phase, no warm-up)
          compare     our latency and throughput (get/set/create at each level) and the Java client's
                      (Apache ZooKeeper's, via the reference harness) with the same parameters, in one run
                      --ops 2000 --warmup-ops 200 --outstanding 1,16,256 --connections 1 --seconds 3 --warmup 1
                      Java side: the repository's load harness (Sources/ZooKeeperTestSupport/JavaLoadHarness),
                      compiled with javac against Debian's jars on first use and cached; needs a JDK and
                      libzookeeper-java libcurator-recipes-java libguava-java libslf4j-java
                      ($SHEPHERD_BENCH_JAVA may name another harness with the same command line)
          servers     our server (zk-server, next to zk-bench) against Apache ZooKeeper 3.8 standalone, both
                      started by the run one after the other (fsync on, free ports, temporary directories),
                      same load from our client, ratios: pipelined get/set/create ops/s, sequential
                      p50/p99, resident memory with N znodes, data dir size, start-up and recovery of an
                      N-transaction log (SIGTERM, restart until a new session reads the last node)
                      --znodes 1000000 --node-size 50 --load-outstanding 256 --outstanding 16,256
                      --seconds 3 --warmup 1 --ops 2000 --warmup-ops 200 --size 100 --settle 2
                      --apache-heap 2g; --quick: 100000 znodes, --ops 500, --seconds 1 (CI smoke)
                      needs java + the Debian zookeeper jars; about 3 min (--quick: 40 s) on 2 cores
          ensembles   a 3-member Shepherd ensemble (three zk-server processes) against a 3-member Apache 3.8
                      ensemble (docker/local-ensemble.sh), one after the other, fsync on, our client on a
                      follower (writes forwarded and committed by a quorum): pipelined get/set/create ops/s and
                      sequential p50/p99 as ratios, pipelined set/create ops/s from a client on the leader;
                      then failover: the leader SIGKILLed, time until the first
                      write sent after the kill is acknowledged (median and max over --failovers rounds)
                      --outstanding 1,16,256 --seconds 3 --warmup 1 --ops 1000 --warmup-ops 100 --size 100
                      --failovers 5
          mutex       our DistributedMutex against Curator's InterProcessMutex (Java harness `mutex`), same
                      server, same run: uncontended (1 session: acquire/release cycles/s, acquire and release
                      p50/p99, requests per acquire counted by the server's `cons`; with --embedded also
                      round trips per acquire, ours and Curator's, timed with replies held back by 25 ms),
                      then --clients sessions contending (acquisitions/s, p50/p99, per-session min/max and
                      min÷max fairness); each holder does a guarded non-atomic increment: any overlap is a
                      violation (exit 1)
                      --clients 8 --seconds 5 --warmup 1 (per phase, each side); --no-java: ours only
          rwlock      our DistributedReadWriteLock against Curator's InterProcessReadWriteLock (Java harness
                      `rwlock`): ops/s, reads/s, writes/s, read/write acquire p50/p99, violations
                      --writers 2 --readers 6 --seconds 5 --warmup 1; --no-java: ours only
          fuzz        the request-path fuzzer: starts zk-server (next to zk-bench) on a free port, sends seeded
                      cases over many connections (well-formed, semi-valid and mutated requests of every 3.8
                      opcode and unknown ones, odd multis, hostile paths/ACLs/xids/quota texts, huge and
                      negative length prefixes, half-written frames), checks ruok and a fresh session after
                      each batch, then kill -9, restart, and checks the zxid, node count and a canary
                      --seed (random, printed) --cases 10000 --first 0 --connections 16 --batch 500
                      --case-timeout 10 --no-restart; a failing case is replayed with --seed S --first I
                      --cases 1; soak: --cases 1000000 (build with -c release: about 8 min on 2 cores)

        common:
          --embedded         run Shepherd's own server in this process (fsync on, temporary directory)
          --start-apache     start Apache ZooKeeper 3.8 standalone from the Debian jars (fsync on) on a free
                             loopback port for this run, and stop it afterwards (needs the `zookeeper` package)
          --json             print one JSON line instead of tables (progress goes to stderr)
          --no-java          (mutex, rwlock) skip the Curator reference (the Java harness, as for compare):
                             our numbers alone, no Java needed
          --time-limit 900   abort (exit 1) after this many seconds
          --help             this text

        Each run works under its own /shepherd-bench/<mode>-<random> node and removes it.
        Exit status: 0 ok, 1 failure, 2 usage error, 130 interrupted.
        """
}
