import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer

/// `zk-bench mutex`: our ``DistributedMutex`` against Curator's `InterProcessMutex` (the Java
/// harness's `mutex` mode), same parameters, same server, same run, alternating: uncontended (one
/// session: acquire → guarded increment → release cycles), then contended (`--clients` sessions
/// looping on one lock). Our side also counts the requests of one uncontended acquire and release.
struct MutexMode {
    struct Options {
        var connect: String
        var clients = 8
        var window: LockWindow
        var java = true

        init(_ arguments: inout Arguments) throws(UsageError) {
            connect = try arguments.required("connect")
            clients = try arguments.integer("clients", default: clients, range: 1...256)
            window = try LockWindow(&arguments)
            java = !arguments.flag("no-java")
        }
    }

    let options: Options
    /// Our embedded server (`--embedded`), for counting round trips per acquire.
    var embedded: EmbeddedServer?

    static func metrics(clients: Int) -> [LockReport.Metric] {
        let phases = [("uncontended", "uncontended"), ("contended", "\(clients) sessions")]
        var metrics: [LockReport.Metric] = []
        for (key, label) in phases {
            let rate = key == "uncontended" ? "cycles/s (acquire + release)" : "acquisitions/s"
            metrics.append(.init(label: "\(label): \(rate)", path: [key, "acquisitions_per_s"], lowerIsBetter: false, decimals: 0))
            for (name, kind) in [("acquire", "acquire"), ("release", "release")] {
                for percentile in ["p50", "p99"] {
                    metrics.append(.init(label: "\(label): \(name) \(percentile) µs", path: [key, kind, "\(percentile)_us"],
                                         lowerIsBetter: true))
                }
            }
            if key == "contended" {
                metrics.append(.init(label: "\(label): per-session min", path: [key, "per_client_min"], lowerIsBetter: false, decimals: 0))
                metrics.append(.init(label: "\(label): per-session max", path: [key, "per_client_max"], lowerIsBetter: false, decimals: 0))
                metrics.append(.init(label: "\(label): fairness (min ÷ max)", path: [key, "fairness"], lowerIsBetter: false, decimals: 3))
            }
            metrics.append(.init(label: "\(label): violations", path: [key, "violations"], lowerIsBetter: true, decimals: 0))
            metrics.append(.init(label: "\(label): errors (timeouts)", path: [key, "errors"], lowerIsBetter: true, decimals: 0))
        }
        metrics.append(.init(label: "requests per uncontended acquire", path: ["requests", "acquire"], lowerIsBetter: true))
        metrics.append(.init(label: "requests per release", path: ["requests", "release"], lowerIsBetter: true))
        metrics.append(.init(label: "round trips per uncontended acquire (--embedded)", path: ["round_trips", "acquire"],
                             lowerIsBetter: true))
        metrics.append(.init(label: "round trips per release (--embedded)", path: ["round_trips", "release"], lowerIsBetter: true))
        return metrics
    }

    static let violationPaths = [["uncontended", "violations"], ["contended", "violations"]]

    func run() async throws -> LockReport {
        let java = options.java ? try await JavaHarness.prepare(instead: "--no-java measures Shepherd alone") : nil
        return try await BenchRoot.with(mode: "mutex", connect: options.connect) { root in try await measure(root, java: java) }
    }

    private func measure(_ root: BenchRoot, java: JavaHarness?) async throws -> LockReport {
        var ours: [String: Any] = [:]
        var curator: [String: Any] = [:]
        let window = options.window
        let javaCommon = ["--connect", options.connect] + window.javaArguments

        Output.progress("mutex: Shepherd, uncontended (1 session, \(window.warmup) s warm-up + \(window.seconds) s)")
        let (uncontended, requests, roundTrips) = try await Self.contend(
            sessions: 1, root: root, path: try root.child("uncontended"), window: window, probe: true, embedded: embedded)
        ours["uncontended"] = uncontended
        if let requests { ours["requests"] = requests.json }
        if let roundTrips { ours["round_trips"] = roundTrips.json }
        if let java {
            Output.progress("mutex: Curator, uncontended")
            curator["uncontended"] = LockReport.withFairness(
                try await java.run(["mutex", "--clients", "1"] + javaCommon, timeout: window.javaTimeout))
            if let embedded {
                Output.progress("mutex: Curator, round trips (replies held back by 25 ms)")
                if let roundTrips = try await RoundTripProbe.measureCurator(java, connect: options.connect, server: embedded) {
                    curator["round_trips"] = roundTrips.json
                }
            }
        }

        Output.progress("mutex: Shepherd, \(options.clients) sessions")
        ours["contended"] = try await Self.contend(
            sessions: options.clients, root: root, path: try root.child("contended"), window: window, probe: false, embedded: nil).result
        if let java {
            Output.progress("mutex: Curator, \(options.clients) sessions")
            curator["contended"] = LockReport.withFairness(
                try await java.run(["mutex", "--clients", String(options.clients)] + javaCommon, timeout: window.javaTimeout))
        }

        let parameters: [String: Any] = [
            "connect": options.connect, "clients": options.clients, "seconds": window.seconds, "warmup": window.warmup,
        ]
        return LockReport(mode: "mutex", metrics: Self.metrics(clients: options.clients), shepherd: ours,
                          curator: java == nil ? nil : curator, parameters: parameters)
    }

    /// `sessions` new sessions loop acquire → guarded increment → release on one mutex at `path`
    /// (under `root`); the result has the Java harness's keys. With `probe`, the first session then
    /// counts requests (both servers) and round trips (our embedded server) per acquire and release.
    static func contend(
        sessions: Int, root: BenchRoot, path: ZNodePath, window: LockWindow, probe: Bool, embedded: EmbeddedServer?
    ) async throws -> (result: [String: Any], requests: RequestProbe.Counts?, roundTrips: RequestProbe.Counts?) {
        let guardian = LockGuard()
        return try await LockWindow.withSessions(sessions, root: root) { clients in
            let locks = clients.map { DistributedMutex(client: $0, path: path) }
            let run = try await window.run(workers: sessions) { index, control in
                var tally = LockWindow.Tally()
                while !LockWindow.stopping(control) {
                    try await LockWindow.cycle(locks[index], control: control, tally: &tally) { await guardian.write() }
                }
                return tally
            }
            let requests = probe ? try await RequestProbe.measure(locks[0]) : nil
            var roundTrips: RequestProbe.Counts?
            if probe, let embedded { roundTrips = try await RoundTripProbe.measure(locks[0], server: embedded) }
            let counts = run.tallies.map(\.count)
            let all = 0..<sessions
            let result: [String: Any] = [
                "acquisitions_per_s": run.rate(run.count(all)), "acquisitions": run.count(all),
                "acquire": run.merged(all, \.acquire).json, "release": run.merged(all, \.release).json,
                "per_client_min": counts.min() ?? 0, "per_client_max": counts.max() ?? 0,
                "violations": guardian.violations, "errors": run.timeouts,
            ]
            return (LockReport.withFairness(result), requests, roundTrips)
        }
    }
}
