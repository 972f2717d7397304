import Foundation
import Testing
import ZooKeeperClient
@testable import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

@Suite("LeaderLatch edge cases", .timeLimit(.minutes(1)))
struct LeaderLatchEdgeCaseTests {
    @Test("predecessors vanish between the listing and the watch 30 times in a row: the latch keeps going and leads")
    func manyVanishedPredecessors() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/election/vanishing"
                let other = clients[1]
                // 32 contenders ahead of ours (another session's latch nodes, in sequence order).
                let ahead = try await latchNodes(32, in: path, of: other)
                // The first 30 times the latch is about to watch its predecessor, the predecessor goes.
                let vanished = Box(0)
                let hook = deletingPredecessor(times: 30, using: other, counting: vanished)
                let latch = LeaderLatch(client: clients[0], path: path, id: "late")
                try await LockContenders.$beforeWatching.withValue(hook) { try await latch.start() }
                try await eventually(within: .seconds(10)) { vanished.get == 30 }
                // The two contenders left go: a latch still watching its predecessor now leads.
                try await deleteRemaining(ahead, using: other)
                // Before: the latch stopped after its predecessors vanished (this timed out).
                try await latch.waitForLeadership(timeout: .seconds(10))
                await latch.close()
            }
        }
    }

    @Test("finished retry tasks are pruned: the latch's task list does not grow with every retry")
    func finishedTasksArePruned() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/election/pruned"
                let other = clients[1]
                let ahead = try await latchNodes(35, in: path, of: other)
                // 33 vanished predecessors: every 10 in a row make the latch back off and retry later.
                let vanished = Box(0)
                let hook = deletingPredecessor(times: 33, using: other, counting: vanished)
                let latch = LeaderLatch(client: clients[0], path: path, id: "pruned")
                try await LockContenders.$beforeWatching.withValue(hook) { try await latch.start() }
                try await eventually(within: .seconds(20)) { vanished.get == 33 }
                try await deleteRemaining(ahead, using: other)
                try await latch.waitForLeadership(timeout: .seconds(10))
                // The connection monitor and the driver remain; every retry task has finished.
                try await eventually(within: .seconds(5)) { latch.taskCount <= 2 }
                await latch.close()
            }
        }
    }

    @Test("the leader's node is deleted from outside: it stops leading, re-contends with a new node, and leads again later")
    func leaderNodeDeletedFromOutside() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/election/deposed"
                let first = LeaderLatch(client: clients[0], path: path, id: "a")
                let second = LeaderLatch(client: clients[1], path: path, id: "b")
                try await first.start()
                try await first.waitForLeadership(timeout: .seconds(10))
                let firstToken = try #require(first.fencingToken)
                try await second.start()
                try await waitForChildren(clients[0], path, count: 2)
                // An operator deletes the leader's node: the leader watches it, so it notices.
                let changes = first.leadershipChanges()
                let deposed = try await leaderNode(in: path, using: clients[1])
                try await clients[1].delete(deposed)
                try await withTimeout(.seconds(10)) {
                    for await change in changes where !change.isLeader { return }
                }
                try await second.waitForLeadership(timeout: .seconds(10))
                // It re-contends with a new node, behind the new leader.
                try await eventually(within: .seconds(10)) {
                    let children = try await clients[0].getChildren(path)
                    return children.count == 2 && !children.contains(deposed.name)
                }
                #expect(!first.hasLeadership)
                await second.close()
                try await first.waitForLeadership(timeout: .seconds(10))
                let secondTerm = try #require(first.fencingToken)
                #expect(secondTerm > firstToken)
                // Alone in the election, deleting its node again: it leads again on a new node (a new term).
                try await clients[1].delete(try await leaderNode(in: path, using: clients[1]))
                try await eventually(within: .seconds(10)) { (first.fencingToken ?? 0) > secondTerm }
                await first.close()
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }
}

/// The leader's node in the election at `path` (the first latch node, in Curator's order).
private func leaderNode(in path: ZNodePath, using client: ZooKeeperClient) async throws -> ZNodePath {
    try path.appending(LockNames.sorted(try await client.getChildren(path), lockName: LeaderLatch.latchName)[0])
}

/// `count` latch nodes of `client`'s session in `path` (protected ephemeral-sequential, in sequence
/// order): contenders ahead of a latch started afterwards.
private func latchNodes(_ count: Int, in path: ZNodePath, of client: ZooKeeperClient) async throws -> [String] {
    try await RecipeSupport.ensurePath(client, path, mode: .container, policy: .standard)
    var nodes: [String] = []
    for _ in 0..<count {
        let node = try ZNodePath(path.string + "/_c_\(UUID().uuidString.lowercased())-latch-", sequentialPrefix: true)
        nodes.append(try await client.create(node, mode: .ephemeralSequential))
    }
    return nodes
}

/// A `LockContenders.beforeWatching` hook: the first `times` times, `client` deletes the
/// predecessor the latch is about to watch (counted in `vanished`).
private func deletingPredecessor(
    times: Int, using client: ZooKeeperClient, counting vanished: Box<Int>
) -> @Sendable (ZNodePath) async -> Void {
    { predecessor in
        guard vanished.update({ count -> Bool in
            guard count < times else { return false }
            count += 1
            return true
        }) else { return }
        try? await client.delete(predecessor)
    }
}

/// Deletes those of `nodes` still there.
private func deleteRemaining(_ nodes: [String], using client: ZooKeeperClient) async throws {
    for node in nodes {
        do { try await client.delete(try ZNodePath(node)) } catch let error as ZooKeeperError where error.code == .noNode {}
    }
}
