import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperTestSupport

/// Defect: a double-barrier `leave` that timed out left its node behind, so the members waiting on it
/// (the others wait on the lowest member) hung until their own timeouts.
@Suite("DistributedDoubleBarrier: a timed-out leave", .timeLimit(.minutes(1)))
struct DoubleBarrierLeaveTimeoutTests {
    @Test("a member whose leave times out is gone: the others still leave together, when the last one does")
    func timedOutLeaveDoesNotBlockOthers() async throws {
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let path: ZNodePath = "/barriers/leave-timeout"
                let barriers = clients.map { DistributedDoubleBarrier(client: $0, path: path, memberCount: 3) }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for barrier in barriers { group.addTask { try await barrier.enter(timeout: .seconds(10)) } }
                    try await group.waitForAll()
                }
                // The lowest member waits on the highest; every other member waits on the lowest.
                let sorted = barriers.sorted { $0.ourPath.name < $1.ourPath.name }
                let (lowest, middle, highest) = (sorted[0], sorted[1], sorted[2])
                let middleLeaving = Task { try await middle.leave(timeout: .seconds(8)) }
                defer { middleLeaving.cancel() }
                try await eventually(within: .seconds(10)) { try await clients[0].exists(middle.ourPath) == nil }

                await #expect(throws: BarrierError.timedOut, "the highest has not left") {
                    try await lowest.leave(timeout: .milliseconds(300))
                }
                _ = try await clients[0].sync(path)  // maybe another member: read what the lowest's client deleted
                #expect(try await clients[0].exists(lowest.ourPath) == nil, "the timed-out member left its node behind")
                try await highest.leave(timeout: .seconds(3))  // the highest waited on the timed-out member
                try await middleLeaving.value  // the middle member waited on the timed-out member
                #expect(try await leftovers(clients[0], path).filter { $0 != "ready" }.isEmpty)
            }
        }
    }

    @Test("a cancelled leave takes our node away too")
    func cancelledLeaveDeletesNode() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/barriers/leave-cancel"
                let barriers = clients.map { DistributedDoubleBarrier(client: $0, path: path, memberCount: 2) }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for barrier in barriers { group.addTask { try await barrier.enter(timeout: .seconds(10)) } }
                    try await group.waitForAll()
                }
                let lowest = barriers.min { $0.ourPath.name < $1.ourPath.name }!
                let leaving = Task { try await lowest.leave() }  // waits for the other member
                leaving.cancel()
                await #expect(throws: CancellationError.self) { try await leaving.value }
                _ = try await clients[0].sync(path)  // maybe another member: read what the lowest's client deleted
                #expect(try await clients[0].exists(lowest.ourPath) == nil)
            }
        }
    }
}
