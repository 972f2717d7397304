import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

@Suite("DistributedMultiLock.withLock", .timeLimit(.minutes(1)))
struct MultiLockWithLockTests {
    @Test("a nested withLock of a member path inside the body is reentrant: no second node, no deadlock")
    func nestedMemberIsReentrant() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let client = clients[0]
                let paths: [ZNodePath] = ["/locks/multi-a", "/locks/multi-b"]
                let both = DistributedMultiLock(client: client, paths: paths)
                let tokens = try await both.withLock(timeout: .seconds(5)) { multi in
                    let inner = try await DistributedMutex(client: client, path: paths[1]).withLock(timeout: .seconds(2)) { lease throws -> Int64 in
                        #expect(try await client.getChildren(paths[1]).count == 1)
                        return lease.fencingToken
                    }
                    #expect(multi.isValid, "the inner release does not release the multi-lock's hold")
                    return [multi.leases[1].fencingToken, inner]
                }
                #expect(tokens[0] == tokens[1])
                for path in paths { #expect(try await leftovers(client, path).isEmpty) }
            }
        }
    }

    @Test("a member's lease is lost while the body runs: the body is cancelled and withLock throws leaseLost")
    func bodyCancelledOnLoss() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let paths: [ZNodePath] = ["/locks/multi-c", "/locks/multi-d"]
                let entered = Box<[ZNodePath]>([])
                let cancelled = Box(0)
                let holder = Task {
                    try await DistributedMultiLock(client: clients[0], paths: paths).withLock(timeout: .seconds(5)) { multi in
                        entered.update { $0 = multi.leases.map(\.path) }
                        try await workUntilCancelled(cancelled)
                    }
                }
                defer { holder.cancel() }
                try await eventually(within: .seconds(10)) { entered.get.count == 2 }
                try await clients[1].delete(entered.get[1])  // an operator clears one lock
                try await eventually(within: .seconds(10)) { cancelled.get == 1 }
                let outcome = await holder.result
                #expect(throws: LockError.leaseLost) { try outcome.get() }
                for path in paths { #expect(try await leftovers(clients[1], path).isEmpty) }
            }
        }
    }
}
