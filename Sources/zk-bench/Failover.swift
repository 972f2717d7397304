import Foundation
import ZooKeeperClient
import ZooKeeperTestSupport

/// Failover time of an ensemble: the leader is SIGKILLed while a client writes back to back through the
/// other two members; the time from the kill to the first write *sent after it* that is acknowledged.
/// (A write sent before the kill may still be answered from the old epoch: it would measure nothing.)
/// The killed member is started again and the ensemble waits healthy before the next round.
enum Failover {
    struct Result {
        /// One figure per round, milliseconds.
        var rounds: [Double]

        var median: Double? {
            let sorted = rounds.sorted()
            return sorted.isEmpty ? nil : sorted[sorted.count / 2]
        }
        var max: Double? { rounds.max() }
        var json: [String: Any] { ["rounds_ms": rounds, "median_ms": median ?? NSNull(), "max_ms": max ?? NSNull()] }
    }

    static func measure(_ ensemble: ApacheEnsemble, rounds: Int, title: String) async throws -> Result {
        var figures: [Double] = []
        for round in 1...max(1, rounds) {
            let leader = try await ensemble.leader()
            // The survivors only: the client never waits on the dead member's socket.
            let survivors = ensemble.servers.enumerated().filter { $0.offset + 1 != leader }.map(\.element)
            var configuration = try ZooKeeperConfiguration(connectionString: survivors.joined(separator: ","))
            configuration.sessionTimeout = .seconds(30)
            let client = try await ZooKeeperClient.connect(configuration)
            let path: ZNodePath = "/zk-bench-failover"
            do { try await client.create(path) } catch let error as ZooKeeperError where error.code == .nodeExists {}
            _ = try await client.setData(path, data: [0])  // warm: the session and path exist before the kill
            // Taken before the kill script runs: its own few milliseconds count against both ensembles alike.
            let killedAt = ContinuousClock.now
            try await ensemble.kill(node: leader)
            let elapsed = try await firstWrite(client, path, after: killedAt, within: .seconds(60))
            await client.close()
            let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            figures.append(milliseconds)
            Output.progress("\(title): failover \(round)/\(rounds): leader \(leader) killed, first write acknowledged after \(String(format: "%.0f", milliseconds)) ms")
            try await ensemble.startNode(leader)
            try await ensemble.waitHealthy()
        }
        return Result(rounds: figures)
    }

    /// Writes back to back until one sent at or after `start` is acknowledged; returns the time since `start`.
    private static func firstWrite(_ client: ZooKeeperClient, _ path: ZNodePath, after start: ContinuousClock.Instant,
                                   within limit: Duration) async throws -> Duration {
        while ContinuousClock.now - start < limit {
            do {
                _ = try await client.setData(path, data: [1])
                return ContinuousClock.now - start
            } catch let error as ZooKeeperError where error.isRetryable {
                // No leader yet (the member dropped us, or the write was lost with the old leader): again at once,
                // paced only by the client's reconnection.
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        throw BenchError("no write acknowledged within \(limit) of the leader's kill")
    }
}
