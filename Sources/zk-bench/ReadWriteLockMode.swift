import ZooKeeperClient
import ZooKeeperRecipes

/// `zk-bench rwlock`: our ``DistributedReadWriteLock`` against Curator's `InterProcessReadWriteLock`
/// (the Java harness's `rwlock` mode), same parameters, same server, same run: `--writers` sessions
/// loop on the write lock (guarded increment), `--readers` sessions on the read lock (guarded check).
struct ReadWriteLockMode {
    struct Options {
        var connect: String
        var writers = 2
        var readers = 6
        var window: LockWindow
        var java = true

        init(_ arguments: inout Arguments) throws(UsageError) {
            connect = try arguments.required("connect")
            writers = try arguments.integer("writers", default: writers, range: 0...256)
            readers = try arguments.integer("readers", default: readers, range: 0...256)
            guard writers + readers > 0 else { throw UsageError("rwlock needs at least one of --writers and --readers") }
            window = try LockWindow(&arguments)
            java = !arguments.flag("no-java")
        }
    }

    let options: Options

    static let metrics: [LockReport.Metric] = [
        .init(label: "ops/s (reads + writes)", path: ["ops_per_s"], lowerIsBetter: false, decimals: 0),
        .init(label: "reads/s", path: ["reads_per_s"], lowerIsBetter: false, decimals: 0),
        .init(label: "writes/s", path: ["writes_per_s"], lowerIsBetter: false, decimals: 0),
        .init(label: "read acquire p50 µs", path: ["read_acquire", "p50_us"], lowerIsBetter: true),
        .init(label: "read acquire p99 µs", path: ["read_acquire", "p99_us"], lowerIsBetter: true),
        .init(label: "write acquire p50 µs", path: ["write_acquire", "p50_us"], lowerIsBetter: true),
        .init(label: "write acquire p99 µs", path: ["write_acquire", "p99_us"], lowerIsBetter: true),
        .init(label: "violations", path: ["violations"], lowerIsBetter: true, decimals: 0),
        .init(label: "errors (timeouts)", path: ["errors"], lowerIsBetter: true, decimals: 0),
    ]

    static let violationPaths = [["violations"]]

    func run() async throws -> LockReport {
        let java = options.java ? try await JavaHarness.prepare(instead: "--no-java measures Shepherd alone") : nil
        return try await BenchRoot.with(mode: "rwlock", connect: options.connect) { root in try await measure(root, java: java) }
    }

    private func measure(_ root: BenchRoot, java: JavaHarness?) async throws -> LockReport {
        let (writers, readers, window) = (options.writers, options.readers, options.window)
        let path = try root.child("rwlock")
        Output.progress("rwlock: Shepherd, \(writers) writers + \(readers) readers (\(window.warmup) s warm-up + \(window.seconds) s)")
        let guardian = LockGuard()
        let ours: [String: Any] = try await LockWindow.withSessions(writers + readers, root: root) { clients in
            let locks = clients.enumerated().map { index, client in
                let lock = DistributedReadWriteLock(client: client, path: path)
                return index < writers ? lock.writeLock : lock.readLock
            }
            let run = try await window.run(workers: writers + readers) { index, control in
                var tally = LockWindow.Tally()
                let writer = index < writers
                while !LockWindow.stopping(control) {
                    try await LockWindow.cycle(locks[index], control: control, tally: &tally) {
                        if writer { await guardian.write() } else { await guardian.read() }
                    }
                }
                return tally
            }
            let (writing, reading) = (0..<writers, writers..<(writers + readers))
            return [
                "ops_per_s": run.rate(run.count(writing) + run.count(reading)),
                "reads_per_s": run.rate(run.count(reading)), "writes_per_s": run.rate(run.count(writing)),
                "read_acquire": run.merged(reading, \.acquire).json, "write_acquire": run.merged(writing, \.acquire).json,
                "release": run.merged(0..<(writers + readers), \.release).json,
                "violations": guardian.violations, "errors": run.timeouts,
            ]
        }
        var curator: [String: Any]?
        if let java {
            Output.progress("rwlock: Curator, \(writers) writers + \(readers) readers")
            curator = try await java.run(
                ["rwlock", "--connect", options.connect, "--writers", String(writers), "--readers", String(readers)]
                    + window.javaArguments,
                timeout: window.javaTimeout)
        }
        let parameters: [String: Any] = [
            "connect": options.connect, "writers": writers, "readers": readers,
            "seconds": window.seconds, "warmup": window.warmup,
        ]
        return LockReport(mode: "rwlock", metrics: Self.metrics, shepherd: ours, curator: curator, parameters: parameters)
    }
}
