enum Usage {
    static let text = """
    usage: lock-demo [--connect host:port[,host:port…]] [--workers N] [--duration SECONDS]
                     [--mode recipe|herd|none] [--kill-holder] [--session-timeout SECONDS]
                     [--inspect] [--inspect-listen HOST:PORT]

    N worker processes compete for one distributed mutex to hand out order numbers: under the lock
    each reads /…/next-order, writes it + 1 (no version check: only the lock protects it) and
    reports the number. The report checks what a lock must guarantee across processes (JVMs):
    no duplicate order number, no gap, no two holders at once, fencing tokens that only grow.

      --connect H:P        use a running ensemble (default: start an embedded server, temp dir)
      --workers N          worker processes, 2...64 (default 8)
      --duration S         seconds of contention (default 10)
      --mode recipe        DistributedMutex: each waiter watches only its predecessor (default)
      --mode herd          ANTI-PATTERN for comparison: every waiter watches the lock directory's
                           children, so every change wakes every waiter (the herd effect)
      --mode none          no lock at all (control): duplicates appear and the run FAILS, which
                           shows the checks catch what an unprotected counter does
      --kill-holder        SIGKILL a worker while it holds the lock; report how long the lock
                           stays with the dead process (until its session expires) and that no
                           order number was handed out twice
      --session-timeout S  workers' session timeout (default 3; the server may round it)
      --inspect            serve zk-inspector on the demo's server while it runs (default
                           http://127.0.0.1:8080/): watch the waiter queue, each handoff and a killed
                           holder's node vanishing, live; lengthen the run with --duration
      --inspect-listen H:P where the inspector listens (implies --inspect; port 0 picks a free one)

    Exit status: 0 all checks passed, 1 a check failed or the run broke, 2 bad arguments, 130 Ctrl-C.
    """
}
