import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

/// Follows every latch's leadership stream and records any moment with two leaders.
final class LeaderWitness: Sendable {
    private let leaders = Box<Set<Int>>([])
    private let maxSimultaneous = Box(0)
    private let history = Box<[(Int, LeaderLatch.Leadership)]>([])
    private let tasks = Box<[Task<Void, Never>]>([])

    func follow(_ latches: [LeaderLatch]) {
        for (index, latch) in latches.enumerated() {
            let changes = latch.leadershipChanges()
            let task = Task {
                for await change in changes { self.record(index, change) }
            }
            tasks.update { $0.append(task) }
        }
    }

    func record(_ index: Int, _ change: LeaderLatch.Leadership) {
        history.update { $0.append((index, change)) }
        let count = leaders.update { leaders -> Int in
            if change.isLeader { leaders.insert(index) } else { leaders.remove(index) }
            return leaders.count
        }
        maxSimultaneous.update { $0 = max($0, count) }
    }

    var current: Set<Int> { leaders.get }
    var maxLeaders: Int { maxSimultaneous.get }
    var tokens: [Int64] { history.get.compactMap { $0.1.fencingToken } }
    func stop() { for task in tasks.get { task.cancel() } }
}

@Suite("LeaderLatch", .timeLimit(.minutes(1)))
struct LeaderLatchTests {
    @Test("exactly one leader among 3; failover when it closes; never two at once")
    func oneLeaderAndFailoverOnClose() async throws {
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let path: ZNodePath = "/election/close"
                let latches = clients.enumerated().map { LeaderLatch(client: $1, path: path, id: "member-\($0)") }
                let witness = LeaderWitness()
                witness.follow(latches)
                for (index, latch) in latches.enumerated() {
                    try await latch.start()
                    try await waitForChildren(clients[0], path, count: index + 1)  // join in a known order
                }
                try await latches[0].waitForLeadership(timeout: .seconds(10))
                try await eventually(within: .seconds(10)) { witness.current == [0] }
                #expect(latches.filter(\.hasLeadership).count == 1)
                let children = try await clients[0].getChildren(path)
                #expect(children.count == 3)
                #expect(children.allSatisfy { $0.hasPrefix("_c_") && $0.contains("-latch-") })

                await latches[0].close()
                try await latches[1].waitForLeadership(timeout: .seconds(10))
                await latches[1].close()
                try await latches[2].waitForLeadership(timeout: .seconds(10))
                try await eventually(within: .seconds(10)) { witness.current == [2] }
                #expect(witness.maxLeaders == 1)
                let tokens = witness.tokens
                #expect(zip(tokens, tokens.dropFirst()).allSatisfy { $0 < $1 }, "each term's token is larger: \(tokens)")
                await latches[2].close()
                witness.stop()
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("the leader's session expires: it reports not-leader and the next member leads with a larger token")
    func failoverOnSessionExpiry() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/election/expiry"
                let first = LeaderLatch(client: clients[0], path: path, id: "a")
                try await first.start()
                try await first.waitForLeadership(timeout: .seconds(10))
                let firstToken = first.fencingToken!
                let second = LeaderLatch(client: clients[1], path: path, id: "b")
                try await second.start()
                try await waitForChildren(clients[1], path, count: 2)
                #expect(!second.hasLeadership)

                let firstChanges = first.leadershipChanges()
                try await server.expireSession(clients[0].session)
                try await withTimeout(.seconds(10)) {
                    for await change in firstChanges where !change.isLeader { return }
                }
                try await second.waitForLeadership(timeout: .seconds(10))
                #expect(second.fencingToken! > firstToken)
                #expect(!first.hasLeadership)
                await first.close()
                await second.close()
            }
        }
    }

    @Test("a dropped connection: the leader reports not-leader while suspended, then leads again")
    func suspendedThenReconnected() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/election/suspend"
                let leader = LeaderLatch(client: clients[0], path: path, id: "a")
                let follower = LeaderLatch(client: clients[1], path: path, id: "b")
                let witness = LeaderWitness()
                witness.follow([leader, follower])
                try await leader.start()
                try await leader.waitForLeadership(timeout: .seconds(10))
                try await follower.start()
                try await waitForChildren(clients[0], path, count: 2)

                let changes = leader.leadershipChanges()
                try await server.dropConnection(of: clients[0])
                let sequence = try await withTimeout(.seconds(10)) { () -> [Bool] in
                    var seen: [Bool] = []
                    for await change in changes {
                        seen.append(change.isLeader)
                        if seen.count >= 3 { break }
                    }
                    return seen
                }
                #expect(sequence == [true, false, true], "lead, suspended → not leader, reconnected → leader again")
                #expect(!follower.hasLeadership)
                #expect(witness.maxLeaders == 1)
                await leader.close()
                try await follower.waitForLeadership(timeout: .seconds(10))
                await follower.close()
                witness.stop()
            }
        }
    }

    @Test("two members race through 10 rounds of dropped connections (both at once, or one): never two leaders, one at the end")
    func racingThroughReconnects() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/election/race"
                let latches = [LeaderLatch(client: clients[0], path: path, id: "a"), LeaderLatch(client: clients[1], path: path, id: "b")]
                let witness = LeaderWitness()
                witness.follow(latches)
                for latch in latches { try await latch.start() }
                try await eventually(within: .seconds(10)) { witness.current.count == 1 }
                for round in 0..<10 {
                    let states = clients.map { $0.connectionStates() }
                    let victims = round % 3 == 2 ? [0, 1] : [round % 2]
                    for victim in victims { try await server.dropConnection(of: clients[victim]) }
                    // Not `waitForState { $0 == .reconnected }`: from the second round on the state *now* is
                    // `.reconnected` already, and the wait would not wait for this round's drop.
                    for victim in victims { try await waitForReconnection(states[victim]) }
                    // Both sessions survive a dropped connection: exactly one leads again, the same node order.
                    try await eventually(within: .seconds(10)) { witness.current.count == 1 }
                }
                #expect(witness.maxLeaders == 1, "never two leaders at once")
                // The witness follows change streams, which may lag the last round's suspend/reconnect:
                // wait for the latches themselves to settle on one leader.
                try await eventually(within: .seconds(10)) { latches.filter(\.hasLeadership).count == 1 }
                #expect(try await leftovers(clients[0], path).count == 2, "no node was duplicated or lost")
                for latch in latches { await latch.close() }
                witness.stop()
            }
        }
    }

    @Test("waitForLeadership throws timedOut for a member that is not first; close removes its node")
    func awaitTimeout() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/election/await"
                let leader = LeaderLatch(client: clients[0], path: path)
                try await leader.start()
                try await leader.waitForLeadership(timeout: .seconds(10))
                let other = LeaderLatch(client: clients[1], path: path)
                try await other.start()
                await #expect(throws: LeaderLatchError.timedOut) { try await other.waitForLeadership(timeout: .milliseconds(200)) }
                await other.close()
                #expect(try await leftovers(clients[0], path).count == 1)
                await #expect(throws: RecipeLifecycleError.closed) { try await other.start() }
                await leader.close()
            }
        }
    }
}
