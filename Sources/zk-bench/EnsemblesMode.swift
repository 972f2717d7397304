import Foundation
import ZooKeeperClient
import ZooKeeperTestSupport

/// `zk-bench ensembles`: a 3-member Shepherd ensemble (three `zk-server` processes) against a 3-member
/// Apache ZooKeeper 3.8 ensemble, both on loopback from docker/local-ensemble.sh with fsync on, one after the
/// other; the same load from our client connected to a follower (writes are forwarded to the leader and
/// committed by a quorum; reads are the follower's), then pipelined writes from a client on the leader. Every
/// figure as a ratio Shepherd ÷ Apache.
struct EnsemblesMode {
    struct Options {
        var load = StandardLoad.Parameters(latencyOps: 1000, warmupOps: 100, size: 100, outstanding: [1, 16, 256], seconds: 3, warmup: 1)
        /// Leader kills per ensemble for the failover figure (0: none).
        var failovers = 5

        init(_ arguments: inout Arguments) throws(UsageError) {
            load = try StandardLoad.Parameters(&arguments, defaults: load)
            failovers = try arguments.integer("failovers", default: failovers, range: 0...1000)
            guard arguments.string("connect") == nil else { throw UsageError("ensembles mode starts its own ensembles: no --connect") }
        }

        var json: [String: Any] {
            load.json.merging(["failovers": failovers, "fsync": true, "members": 3]) { first, _ in first }
        }
    }

    struct EnsembleResult {
        var load: StandardLoad.Measured
        /// Pipelined sets and creates from a client on the leader.
        var writesOnLeader: [ThroughputMode.LevelResult]
        var failover: Failover.Result?
    }

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
            ["latency": measured.load.latency?.json as Any, "throughput": measured.load.throughput.map(\.json),
             "throughput_client_on_leader": measured.writesOnLeader.map(\.json), "failover": measured.failover?.json as Any]
        }

        func print() {
            Output.line(RatioTable.render(rows, shepherdTitle: "Shepherd ensemble", referenceTitle: "Apache 3.8 ensemble", goalColumn: true))
            Output.line("""
                ratio = Shepherd ÷ Apache; goal: ≥ 2 on write throughput and ≤ 0.5 on create p50 (the ensemble issue's \
                targets), otherwise at least as good as Apache (≥ 1 on throughput, ≤ 1 on latency and failover). \
                Three members each on this machine, \
                fsync on, our client on a follower (on the leader where the row says so); the ensembles run one at a time. \
                Failover: the leader SIGKILLed, \
                until the first write sent after the kill is acknowledged (client on the two survivors), tickTime 2000.
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
            let load = try await StandardLoad.run(options.load, connect: follower, title: title)
            let leader = ensemble.servers[try await ensemble.leader() - 1]
            Output.progress("\(title): pipelined writes from a client on the leader \(leader)")
            let writesOnLeader = try await StandardLoad.throughput(options.load, connect: leader, operations: [.create, .set])
            let failover = options.failovers > 0
                ? try await Failover.measure(ensemble, rounds: options.failovers, title: title) : nil
            await ensemble.stop()
            return EnsembleResult(load: load, writesOnLeader: writesOnLeader, failover: failover)
        } catch {
            await ensemble.stop()
            throw error
        }
    }

    private func rows(_ ours: EnsembleResult, _ theirs: EnsembleResult) -> [RatioRow] {
        // The replicated-server issue's targets: ≥ 2× Apache's write throughput, ≤ 0.5× its create latency via
        // a follower (p50), failover no slower; every other figure at least as good as Apache's.
        let writeGoal: (ThroughputMode.Operation) -> Double = { $0 == .get ? 1 : 2 }
        return StandardLoad.throughputRows(ours.load.throughput, theirs.load.throughput, outstanding: options.load.outstanding,
                                           goal: writeGoal)
            + StandardLoad.throughputRows(ours.writesOnLeader, theirs.writesOnLeader, outstanding: options.load.outstanding,
                                          operations: [.set, .create], suffix: ", client on the leader", goal: writeGoal)
            + StandardLoad.latencyRows(ours.load.latency, theirs.load.latency) { $0 == "create" && $1 == "p50" ? 0.5 : 1 }
            + failoverRows(ours.failover, theirs.failover)
    }

    private func failoverRows(_ ours: Failover.Result?, _ theirs: Failover.Result?) -> [RatioRow] {
        guard ours != nil || theirs != nil else { return [] }
        return [
            RatioRow(metric: "failover median ms (\(options.failovers) leader kills)", shepherd: ours?.median, reference: theirs?.median, lowerIsBetter: true, decimals: 0),
            RatioRow(metric: "failover max ms", shepherd: ours?.max, reference: theirs?.max, lowerIsBetter: true, decimals: 0),
        ]
    }
}
