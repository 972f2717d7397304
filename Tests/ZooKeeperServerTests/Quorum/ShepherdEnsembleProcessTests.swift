import Foundation
import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperProtocol
import ZooKeeperTestSupport

/// A Shepherd ensemble as three `zk-server` processes (docker/local-ensemble.sh), its leader SIGKILLed
/// again and again under a client's write load: every acknowledged write survives every kill, and a new
/// leader serves within a bounded time each round.
@Suite(.serialized, .timeLimit(.minutes(6)),
       .enabled(if: ShepherdServerProcess.binaryPath != nil, Comment(rawValue: ShepherdServerProcess.notBuiltMessage)))
struct ShepherdEnsembleProcessTests {
    static let rounds = 20

    /// The paths whose create was acknowledged, and whether to keep writing.
    final class Load: Sendable {
        let acknowledged = Mutex<[String]>([])
        let running = Atomic<Bool>(true)
        var count: Int { acknowledged.withLock { $0.count } }
    }

    /// Creates `/load/w-<n>` one after another, paced (about 200 a second: the tree stays small enough for a
    /// restarted member's snapshot to load quickly in a debug build); only successful creates count (a lost
    /// reply's outcome is unknown).
    static func write(_ client: ZooKeeperClient, _ load: Load, prefix: String = "/load/w-") async {
        var index = 0
        while load.running.load(ordering: .acquiring) {
            index += 1
            let path = "\(prefix)\(index)"
            do {
                try await client.create(try ZNodePath(path))
                load.acknowledged.withLock { $0.append(path) }
                try? await Task.sleep(for: .milliseconds(5))  // pacing, not synchronisation
            } catch {
                try? await Task.sleep(for: .milliseconds(20))  // no member serves this instant: try the next write shortly
            }
        }
    }

    /// The leader's node number once one other than `old` leads.
    static func newLeader(_ ensemble: ApacheEnsemble, not old: Int) async throws -> Int {
        var leader = old
        try await eventually(within: .seconds(20), pollEvery: .milliseconds(10)) {
            guard let node = try? await ensemble.leader(), node != old else { return false }
            leader = node
            return true
        }
        return leader
    }

    static func milliseconds(_ duration: Duration) -> Int { Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000) }

    @Test func leaderKilledTwentyTimesUnderLoadLosesNoAcknowledgedWrite() async throws {
        try await withApacheEnsemble(tickTime: 200, shepherdNodes: [1, 2, 3]) { ensemble in
            var configuration = try ZooKeeperConfiguration(connectionString: ensemble.connectString)
            configuration.sessionTimeout = .seconds(4)
            let client = try await ZooKeeperClient.connect(configuration)
            try await client.create("/load")
            let load = Load()
            let writer = Task { await Self.write(client, load) }
            var failovers: [Int] = []
            for round in 1...Self.rounds {
                let before = load.count
                let leader = try await ensemble.leader()
                let killedAt = ContinuousClock.now
                try await ensemble.kill(node: leader)
                let next = try await Self.newLeader(ensemble, not: leader)
                failovers.append(Self.milliseconds(killedAt.duration(to: .now)))
                try await ensemble.startNode(leader)
                try await ensemble.waitHealthy()
                try await eventually(within: .seconds(10)) { load.count > before }
                #expect(next != leader, "round \(round)")
                print("round \(round): \(leader) -> \(next) in \(failovers.last!) ms, \(load.count) acked")
            }
            load.running.store(false, ordering: .releasing)
            await writer.value
            await client.close()

            // Every acknowledged path, read back through a fresh session after sync.
            let checker = try await ZooKeeperClient.connect(configuration)
            _ = try await checker.sync("/load")
            let present = Set(try await checker.getChildren("/load").map { "/load/" + $0 })
            let acknowledged = load.acknowledged.withLock { $0 }
            let lost = acknowledged.filter { !present.contains($0) }
            #expect(lost.isEmpty, "acknowledged and lost: \(lost.prefix(10))")
            await checker.close()
            let sorted = failovers.sorted()
            print("ShepherdEnsembleProcessTests: \(Self.rounds) leader kills, \(acknowledged.count) writes acknowledged, 0 allowed lost (\(lost.count) lost); kill → new leader serving: min \(sorted.first ?? 0) ms, median \(sorted[sorted.count / 2]) ms, max \(sorted.last ?? 0) ms (tick 200 ms)")
        }
    }

    /// Any member SIGKILLed, 20 rounds (a seeded mix of leaders and followers), under writes pipelined 4 deep on
    /// two clients (one pinned to each of two members, so forwarded writes from both kinds of member are in
    /// flight at each kill); afterwards every member, read alone, holds every acknowledged write.
    @Test func anyMemberKilledTwentyTimesUnderPipelinedLoadLosesNoAcknowledgedWrite() async throws {
        try await withApacheEnsemble(tickTime: 200, shepherdNodes: [1, 2, 3]) { ensemble in
            var configuration = try ZooKeeperConfiguration(connectionString: ensemble.connectString)
            configuration.sessionTimeout = .seconds(4)
            let setup = try await ZooKeeperClient.connect(configuration)
            try await setup.create("/any")
            await setup.close()
            let load = Load()
            var writers: [Task<Void, Never>] = []
            for (index, server) in ensemble.servers.prefix(2).enumerated() {
                // Each writer prefers its own member (listed first) and moves on when it dies.
                let others = ensemble.servers.filter { $0 != server }
                var own = try ZooKeeperConfiguration(connectionString: ([server] + others).joined(separator: ","))
                own.sessionTimeout = .seconds(4)
                own.shuffleServers = false
                let client = try await ZooKeeperClient.connect(own)
                for lane in 0..<4 {
                    writers.append(Task { await Self.write(client, load, prefix: "/any/c\(index)-l\(lane)-") })
                }
            }
            var random = SplitMix64(seed: 20)
            var kinds: [String] = []
            for round in 1...Self.rounds {
                let before = load.count
                let leader = try await ensemble.leader()
                let followers = [1, 2, 3].filter { $0 != leader }
                let victim = random.next() % 2 == 0 ? leader : followers[Int(random.next() % 2)]
                kinds.append(victim == leader ? "leader" : "follower")
                try await ensemble.kill(node: victim)
                if victim == leader { _ = try await Self.newLeader(ensemble, not: leader) }
                try await eventually(within: .seconds(15)) { load.count > before }
                try await ensemble.startNode(victim)
                try await ensemble.waitHealthy()
                print("round \(round): killed \(kinds.last!) \(victim), \(load.count) acked")
            }
            load.running.store(false, ordering: .releasing)
            for writer in writers { await writer.value }

            let acknowledged = Set(load.acknowledged.withLock { $0 })
            for (index, server) in ensemble.servers.enumerated() {
                var alone = try ZooKeeperConfiguration(connectionString: server)
                alone.sessionTimeout = .seconds(4)
                let reader = try await ZooKeeperClient.connect(alone)
                _ = try await reader.sync("/any")
                let present = Set(try await reader.getChildren("/any").map { "/any/" + $0 })
                let lost = acknowledged.subtracting(present)
                #expect(lost.isEmpty, "member \(index + 1) lacks acknowledged writes: \(lost.sorted().prefix(10))")
                await reader.close()
            }
            print("ShepherdEnsembleProcessTests: \(Self.rounds) kills (\(kinds.filter { $0 == "leader" }.count) leaders, \(kinds.filter { $0 == "follower" }.count) followers), \(acknowledged.count) pipelined writes acknowledged, every member holds them all")
        }
    }
}
