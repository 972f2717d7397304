import Foundation
import Synchronization

/// The fuzzer's driver: runs cases from ``FuzzCaseGenerator`` in batches over many concurrent
/// connections against a `zk-server` child process, checks the server between batches, and at the
/// end kills it with SIGKILL, restarts it and checks that the tree survived.
public struct FuzzRun: Sendable {
    public struct Options: Sendable {
        public var seed: UInt64
        /// Cases to run, from index ``firstIndex``.
        public var cases: Int
        public var firstIndex: UInt64 = 0
        /// Connections open at once (one per worker thread).
        public var connections: Int = 16
        /// Cases between two checks of the server.
        public var batchSize: Int = 500
        /// How long one awaited answer may take before the server counts as hung.
        public var caseTimeout: Duration = .seconds(10)
        /// Kill -9, restart and check the tree at the end.
        public var restartCheck = true
        /// Accept each session's replies in any order (an ensemble member: ``FuzzCaseRunner/anyReplyOrder``).
        public var anyReplyOrder = false
        public var maxFailures = 20
        /// Told after every batch (progress lines).
        public var progress: (@Sendable (FuzzReport) -> Void)?

        public init(seed: UInt64, cases: Int) {
            self.seed = seed
            self.cases = cases
        }
    }

    /// The password of the checks' super user (the fuzz cases never use it).
    public static let superPassword = "fuzz-checks-only"

    /// The zoo.cfg lines a fuzzed server needs: the checks' super user and a short tick, so that the
    /// sessions the cases leave behind expire within seconds (session timeouts 0.4–4 s). No fsync: a
    /// kill -9 cannot lose what the kernel already has (fsync guards against power loss, not simulated
    /// here), and every case creates a session, so fsync would make the run disk-bound.
    public static let serverConfig = [FuzzServerChecks.superDigestLine(password: superPassword), "snapCount=20000", "forceSync=no"]
    public static let serverTickTime = 200

    public let options: Options
    public init(options: Options) { self.options = options }

    /// Starts a server in a temporary directory, runs, stops it and removes the directory.
    public static func runOnFreshServer(_ options: Options) async throws -> FuzzReport {
        let server = try ShepherdServerProcess(extraConfig: serverConfig, tickTime: serverTickTime)
        defer { server.cleanup() }
        try await server.start()
        var report = try await FuzzRun(options: options).run(on: server)
        if !report.passed { report.serverFailure = report.serverFailure.map { $0 + "\n" + server.logTail(maxBytes: 4_000) } }
        server.stop()
        return report
    }

    /// Runs against `server` (started, with ``serverConfig``).
    public func run(on server: ShepherdServerProcess) async throws -> FuzzReport {
        let started = ContinuousClock.now
        var report = try await run(port: server.port)
        let checks = FuzzServerChecks(port: server.port, superPassword: Self.superPassword)
        if report.serverFailure == nil && options.restartCheck {
            report.connections += 8
            do { try await restartCheck(server, checks: checks, report: &report) } catch {
                report.serverFailure = "kill -9 and restart: \(error)"
            }
        }
        report.seconds = started.duration(to: .now).seconds
        return report
    }

    /// Runs the cases against whatever serves on `port` (a member of an ensemble, say), checking it between
    /// batches; no kill -9 at the end.
    public func run(port: Int) async throws -> FuzzReport {
        let started = ContinuousClock.now
        let checks = FuzzServerChecks(port: port, superPassword: Self.superPassword)
        var report = FuzzReport(seed: options.seed)
        try await checks.prepare(seed: options.seed)
        report.connections += 1
        var next = options.firstIndex
        let end = options.firstIndex + UInt64(options.cases)
        while next < end {
            let batchEnd = min(end, next + UInt64(options.batchSize))
            let results = await runBatch(next..<batchEnd, port: port)
            for (fuzzCase, problem) in results {
                report.cases += 1
                report.connections += 1
                report.casesByFamily[fuzzCase.family, default: 0] += 1
                guard let problem else { continue }
                report.failureCount += 1
                if report.failures.count < options.maxFailures {
                    report.failures.append(FuzzFailure(seed: options.seed, index: fuzzCase.index, family: fuzzCase.family, problem: problem))
                }
            }
            report.connections += 2
            if let problem = await checks.healthy(label: "after cases \(next)..<\(batchEnd)") {
                report.serverFailure = problem + " (reproduce: --seed \(options.seed) --first \(next) --cases \(batchEnd - next))"
                break
            }
            next = batchEnd
            report.seconds = started.duration(to: .now).seconds
            options.progress?(report)
        }
        report.seconds = started.duration(to: .now).seconds
        return report
    }

    /// Runs one batch's cases on `connections` threads; returns each case with its problem (nil: passed).
    private func runBatch(_ indices: Range<UInt64>, port: Int) async -> [(FuzzCase, String?)] {
        let runner = FuzzCaseRunner(port: port, timeout: options.caseTimeout, anyReplyOrder: options.anyReplyOrder)
        let seed = options.seed
        let shared = BatchState(first: indices.lowerBound)
        let workers = max(1, min(options.connections, indices.count))
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let group = DispatchGroup()
            for worker in 0..<workers {
                group.enter()
                let thread = Thread {
                    var mine: [(FuzzCase, String?)] = []
                    while true {
                        let index = shared.cursor.add(1, ordering: .relaxed).oldValue
                        guard index < indices.upperBound else { break }
                        let fuzzCase = FuzzCaseGenerator.makeCase(seed: seed, index: index)
                        mine.append((fuzzCase, runner.run(fuzzCase)))
                    }
                    shared.results.withLock { $0 += mine }
                    group.leave()
                }
                thread.name = "fuzz-\(worker)"
                thread.start()
            }
            group.notify(queue: .global()) { done.resume() }
        }
        return shared.results.withLock { $0 }.sorted { $0.0.index < $1.0.index }
    }

    /// Waits for the cases' sessions to expire (so nothing changes the tree on its own), notes the
    /// zxid and node count, kills the server with SIGKILL, restarts it, and expects the same figures,
    /// the canary, and a working fresh session.
    private func restartCheck(_ server: ShepherdServerProcess, checks: FuzzServerChecks, report: inout FuzzReport) async throws {
        try await eventually(within: .seconds(60), pollEvery: .milliseconds(100)) {
            try checks.monitor("zk_global_sessions") == 0 && checks.monitor("zk_ephemerals_count") == 0
        }
        let before = try checks.treeFigures()
        server.kill()
        try await server.start()
        let after = try checks.treeFigures()
        if after.zxid != before.zxid || after.nodes != before.nodes {
            report.serverFailure = "after kill -9 and restart: zxid 0x\(String(after.zxid, radix: 16)) and \(after.nodes) nodes, "
                + "before: zxid 0x\(String(before.zxid, radix: 16)) and \(before.nodes) nodes"
            return
        }
        if let problem = await checks.canaryIntact(seed: options.seed) {
            report.serverFailure = "after kill -9 and restart: \(problem)"
            return
        }
        if let problem = await checks.healthy(label: "after kill -9 and restart") {
            report.serverFailure = problem
            return
        }
        report.restart = "zxid 0x\(String(before.zxid, radix: 16)), \(before.nodes) nodes and the canary survived"
    }
}

/// What a batch's worker threads share: the next case index and the results.
private final class BatchState: Sendable {
    let cursor: Atomic<UInt64>
    let results = Mutex<[(FuzzCase, String?)]>([])
    init(first: UInt64) { cursor = Atomic(first) }
}

extension Duration {
    /// The duration in (fractional) seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
