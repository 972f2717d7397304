import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

@Suite("Barriers", .timeLimit(.minutes(1)))
struct BarrierTests {
    @Test("waiters on a set barrier are released exactly when it is removed")
    func barrierReleasesOnRemove() async throws {
        try await withRecipeServer { server in
            try await withClients(4, on: server) { clients in
                let path: ZNodePath = "/barriers/simple"
                let coordinator = DistributedBarrier(client: clients[0], path: path)
                try await coordinator.waitForRelease(timeout: .seconds(5))  // an unset barrier does not hold
                try await coordinator.setBarrier()
                try await coordinator.setBarrier()  // idempotent
                #expect(try await coordinator.isSet())
                for client in clients.dropFirst() { _ = try await client.sync(path) }  // maybe other members: read the barrier clients[0] set

                let removed = Box(false)
                let released = Box<[Bool]>([])
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for client in clients.dropFirst() {
                        group.addTask {
                            let waiter = DistributedBarrier(client: client, path: path)
                            try await waiter.waitForRelease()
                            released.update { $0.append(removed.get) }
                        }
                    }
                    // The barrier holds (a bounded wait times out) while it is set.
                    await #expect(throws: BarrierError.timedOut) {
                        try await DistributedBarrier(client: clients[1], path: path).waitForRelease(timeout: .milliseconds(200))
                    }
                    #expect(released.get.isEmpty)
                    removed.update { $0 = true }
                    try await coordinator.removeBarrier()
                    try await group.waitForAll()
                }
                #expect(released.get == [true, true, true], "released only after the removal")
                try await coordinator.removeBarrier()  // removing an absent barrier is fine
            }
        }
    }

    @Test("double barrier: 5 members enter together and leave together; early arrivals wait")
    func doubleBarrierEnterAndLeaveTogether() async throws {
        try await withRecipeServer { server in
            try await withClients(5, on: server) { clients in
                let path: ZNodePath = "/barriers/double"
                let barriers = clients.map { DistributedDoubleBarrier(client: $0, path: path, memberCount: 5) }
                let entered = Box(0)
                let left = Box(0)
                let gate = AsyncStream<Void>.makeStream()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for barrier in barriers.prefix(4) {
                        group.addTask {
                            try await barrier.enter(timeout: .seconds(20))
                            entered.update { $0 += 1 }
                            for await _ in gate.stream { break }  // compute until the test says leave
                            try await barrier.leave(timeout: .seconds(20))
                            left.update { $0 += 1 }
                        }
                    }
                    // Four early members are in (their nodes exist) but none has passed the barrier.
                    try await waitForChildren(clients[0], path, count: 4)
                    #expect(try await barriers[4].client.exists(barriers[4].readyPath) == nil)
                    #expect(entered.get == 0, "early arrivals wait for the fifth")

                    try await barriers[4].enter(timeout: .seconds(20))
                    try await eventually(within: .seconds(10)) { entered.get == 4 }
                    #expect(try await clients[0].exists(barriers[0].readyPath) != nil)

                    for _ in 0..<4 { gate.continuation.yield() }
                    gate.continuation.finish()
                    // The four leave, but none gets out while the fifth is still in. Herd-avoiding
                    // leave: all but the lowest member delete their nodes; the lowest waits on the highest.
                    let lowest = barriers.map(\.ourPath.name).min()!
                    let remaining = Set([lowest, barriers[4].ourPath.name])
                    try await eventually(within: .seconds(10)) {
                        let children = (try? await clients[0].getChildren(path)) ?? []
                        return Set(children.filter { $0 != "ready" }) == remaining
                    }
                    #expect(left.get == 0, "early leavers wait for the last member")
                    try await barriers[4].leave(timeout: .seconds(20))
                    try await group.waitForAll()
                }
                #expect(left.get == 4)
                #expect(try await leftovers(clients[0], path).isEmpty, "member nodes and ready are gone")
            }
        }
    }

    @Test("double barrier: enter times out when the group never completes")
    func doubleBarrierTimeout() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/barriers/short"
                let first = DistributedDoubleBarrier(client: clients[0], path: path, memberCount: 3)
                await #expect(throws: BarrierError.timedOut) { try await first.enter(timeout: .milliseconds(300)) }
                try await first.leave(timeout: .seconds(5))
                _ = try await clients[1].sync(path)  // maybe another member: read what clients[0] did
                let children = try await clients[1].getChildren(path)
                #expect(children.isEmpty)
            }
        }
    }

    @Test("a barrier waiter rides out a dropped connection and is released by the removal")
    func barrierWaiterSurvivesDrop() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/barriers/drop"
                let coordinator = DistributedBarrier(client: clients[0], path: path)
                try await coordinator.setBarrier()
                _ = try await clients[1].sync(path)  // maybe another member: read the barrier clients[0] set
                let waiter = Task { try await DistributedBarrier(client: clients[1], path: path).waitForRelease(timeout: .seconds(20)) }
                let states = clients[1].connectionStates()
                try await server.dropConnection(of: clients[1])
                try await waitForState(states) { $0 == .reconnected }
                await #expect(throws: BarrierError.timedOut, "still held after the reconnection") {
                    try await DistributedBarrier(client: clients[1], path: path).waitForRelease(timeout: .milliseconds(100))
                }
                try await coordinator.removeBarrier()
                try await waiter.value  // released
            }
        }
    }

    @Test("a double-barrier member whose session expires gets sessionExpired; its node is gone")
    func doubleBarrierMemberExpires() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/barriers/expire"
                let doomed = DistributedDoubleBarrier(client: clients[0], path: path, memberCount: 3)
                let entering = Task { try await doomed.enter(timeout: .seconds(20)) }
                try await waitForChildren(clients[1], path, count: 1)
                try await server.expireSession(clients[0].session)
                await #expect(throws: ZooKeeperError.self) { try await entering.value }
                try await waitForChildren(clients[1], path, count: 0)
            }
        }
    }
}
