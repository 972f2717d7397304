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
                var ahead: [String] = []
                for _ in 0..<32 {
                    let node = try ZNodePath(path.string + "/_c_\(UUID().uuidString.lowercased())-latch-", sequentialPrefix: true)
                    try await RecipeSupport.ensurePath(other, path, mode: .container, policy: .standard)
                    ahead.append(try await other.create(node, mode: .ephemeralSequential))
                }
                // The first 30 times the latch is about to watch its predecessor, the predecessor goes.
                let vanished = Box(0)
                let hook: @Sendable (String) async -> Void = { predecessor in
                    guard vanished.update({ count -> Bool in
                        guard count < 30 else { return false }
                        count += 1
                        return true
                    }) else { return }
                    try? await other.delete(try ZNodePath(predecessor))
                }
                let latch = LeaderLatch(client: clients[0], path: path, id: "late")
                try await LeaderLatch.$beforeWatchingPredecessor.withValue(hook) { try await latch.start() }
                try await eventually(within: .seconds(10)) { vanished.get == 30 }
                // The two contenders left go: a latch still watching its predecessor now leads.
                for node in ahead {
                    do { try await other.delete(try ZNodePath(node)) } catch let error as ZooKeeperError where error.code == .noNode {}
                }
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
                try await RecipeSupport.ensurePath(other, path, mode: .container, policy: .standard)
                var ahead: [String] = []
                for _ in 0..<35 {
                    let node = try ZNodePath(path.string + "/_c_\(UUID().uuidString.lowercased())-latch-", sequentialPrefix: true)
                    ahead.append(try await other.create(node, mode: .ephemeralSequential))
                }
                // 33 vanished predecessors: every 10 in a row make the latch back off and retry later.
                let vanished = Box(0)
                let hook: @Sendable (String) async -> Void = { predecessor in
                    guard vanished.update({ count -> Bool in
                        guard count < 33 else { return false }
                        count += 1
                        return true
                    }) else { return }
                    try? await other.delete(try ZNodePath(predecessor))
                }
                let latch = LeaderLatch(client: clients[0], path: path, id: "pruned")
                try await LeaderLatch.$beforeWatchingPredecessor.withValue(hook) { try await latch.start() }
                try await eventually(within: .seconds(20)) { vanished.get == 33 }
                for node in ahead {
                    do { try await other.delete(try ZNodePath(node)) } catch let error as ZooKeeperError where error.code == .noNode {}
                }
                try await latch.waitForLeadership(timeout: .seconds(10))
                // The connection monitor and the driver remain; every retry task has finished.
                try await eventually(within: .seconds(5)) { latch.taskCount <= 2 }
                await latch.close()
            }
        }
    }
}
