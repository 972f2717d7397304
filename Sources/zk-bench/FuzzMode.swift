import Foundation
import Synchronization
import ZooKeeperTestSupport

/// `zk-bench fuzz`: the request-path fuzzer (TestSupport's ``FuzzRun``) against a `zk-server` it starts
/// itself (so that it can kill it with SIGKILL and restart it at the end).
struct FuzzMode {
    struct Options {
        var run: FuzzRun.Options

        init(_ arguments: inout Arguments) throws {
            let seedText = arguments.string("seed")
            let seed: UInt64
            if let seedText {
                guard let value = UInt64(seedText) else { throw UsageError("--seed takes an unsigned 64-bit integer, got \"\(seedText)\"") }
                seed = value
            } else {
                seed = UInt64.random(in: 0...UInt64.max)
            }
            run = FuzzRun.Options(seed: seed, cases: try arguments.integer("cases", default: 10_000, range: 1...100_000_000))
            run.firstIndex = UInt64(try arguments.integer("first", default: 0, range: 0...Int.max))
            run.connections = try arguments.integer("connections", default: 16, range: 1...512)
            run.batchSize = try arguments.integer("batch", default: 500, range: 1...1_000_000)
            run.caseTimeout = .milliseconds(Int(1000 * (try arguments.seconds("case-timeout", default: 10, range: 0.1...600))))
            run.restartCheck = !arguments.flag("no-restart")
        }
    }

    let options: Options

    func run(json: Bool) async throws -> FuzzReport {
        var run = options.run
        // The seed first: a run that crashes zk-bench itself can still be replayed.
        Output.progress("fuzz: seed \(run.seed), cases \(run.firstIndex)..<\(run.firstIndex + UInt64(run.cases)), \(run.connections) connections")
        let every = max(1, 50_000 / max(1, run.batchSize))
        let batches = Counter()
        run.progress = { report in
            if batches.increment() % every == 0 {
                Output.progress("fuzz: \(report.cases) cases, \(report.failureCount) failed, \(Int(report.seconds)) s")
            }
        }
        return try await FuzzRun.runOnFreshServer(run)
    }

    static func print(_ report: FuzzReport) { Output.line(report.description) }

    static func json(_ report: FuzzReport) -> [String: Any] {
        [
            "mode": "fuzz", "seed": String(report.seed), "cases": report.cases, "connections": report.connections,
            "failedCases": report.failureCount, "serverFailures": report.serverFailure == nil ? 0 : 1,
            "seconds": report.seconds, "restart": report.restart ?? "not done",
            "failures": report.failures.map(\.description) + (report.serverFailure.map { [$0] } ?? []),
        ]
    }
}

/// A counter the progress callback can bump.
private final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}
