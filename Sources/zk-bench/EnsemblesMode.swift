import Foundation
import ZooKeeperClient
import ZooKeeperTestSupport

/// `zk-bench ensembles`: a 3-member Shepherd ensemble (three `zk-server` processes) against a 3-member
/// Apache ZooKeeper 3.8 ensemble, both on loopback from docker/local-ensemble.sh with fsync on, one after the
/// other; the same load from our client connected to a follower (writes are forwarded to the leader and
/// committed by a quorum; reads are the follower's). Every figure as a ratio Shepherd ÷ Apache.
struct EnsemblesMode {
    struct Options {
        var latencyOps = 1000
        var warmupOps = 100
        var size = 100
        var outstanding = [1, 16, 256]
        var seconds = 3.0
        var warmup = 1.0

        init(_ arguments: inout Arguments) throws(UsageError) {
            latencyOps = try arguments.integer("ops", default: latencyOps, range: 1...1_000_000)
            warmupOps = try arguments.integer("warmup-ops", default: warmupOps, range: 0...1_000_000)
            size = try arguments.integer("size", default: size, range: 0...1_000_000)
            outstanding = try arguments.integerList("outstanding", default: outstanding, range: 1...10_000)
            seconds = try arguments.seconds("seconds", default: seconds, range: 0.1...600)
            warmup = try arguments.seconds("warmup", default: warmup, range: 0...600)
            guard arguments.string("connect") == nil else { throw UsageError("ensembles mode starts its own ensembles: no --connect") }
        }

        var json: [String: Any] {
            ["latency_ops": latencyOps, "warmup_ops": warmupOps, "size": size, "outstanding": outstanding,
             "seconds": seconds, "warmup": warmup, "fsync": true, "members": 3]
        }
    }

    typealias EnsembleResult = StandardLoad.Measured

    struct Report {
        var rows: [RatioRow]
        var shepherd: EnsembleResult
        var apache: EnsembleResult
        var options: Options

        var json: [String: Any] {
            ["mode": "ensembles", "params": options.json, "rows": rows.map { $0.json(referenceKey: "apache") },
             "shepherd": Self.json(shepherd), "apache": Self.json(apache)]
        }

        static func json(_ measured: EnsembleResult) -> [String: Any] {
            ["latency": measured.latency?.json as Any, "throughput": measured.throughput.map(\.json)]
        }

        func print() {
            Output.line(RatioTable.render(rows, shepherdTitle: "Shepherd ensemble", referenceTitle: "Apache 3.8 ensemble", goalColumn: true))
            Output.line("""
                ratio = Shepherd ÷ Apache; goal: ≥ 1 on throughput, ≤ 1 on latency. Three members each on this machine, \
                fsync on, our client on a follower; the ensembles run one at a time.
                """)
        }
    }

    let options: Options

    func run() async throws -> Report {
        guard ServerUnderTest.shepherdBinary != nil else {
            throw UsageError("ensembles mode needs zk-server next to zk-bench (swift build -c release --product zk-bench --product zk-server)")
        }
        let ours = try await measure(shepherdNodes: [1, 2, 3], title: "Shepherd ensemble")
        let theirs = try await measure(shepherdNodes: [], title: "Apache ensemble")
        return Report(rows: rows(ours, theirs), shepherd: ours, apache: theirs, options: options)
    }

    private func measure(shepherdNodes: [Int], title: String) async throws -> EnsembleResult {
        Output.progress("\(title): starting three members")
        let ensemble = try await ApacheEnsemble.start(
            tickTime: 2000, shepherdNodes: shepherdNodes, extraConfig: ["forceSync=yes", "preAllocSize=65536"])
        do {
            let follower = ensemble.servers[try await ensemble.follower() - 1]
            Output.progress("\(title): our client on follower \(follower)")
            let parameters = StandardLoad.Parameters(
                latencyOps: options.latencyOps, warmupOps: options.warmupOps, size: options.size, outstanding: options.outstanding,
                seconds: options.seconds, warmup: options.warmup)
            let result = try await StandardLoad.run(parameters, connect: follower, title: title)
            await ensemble.stop()
            return result
        } catch {
            await ensemble.stop()
            throw error
        }
    }

    private func rows(_ ours: EnsembleResult, _ theirs: EnsembleResult) -> [RatioRow] {
        StandardLoad.throughputRows(ours.throughput, theirs.throughput, outstanding: options.outstanding)
            + StandardLoad.latencyRows(ours.latency, theirs.latency)
    }
}
