import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

@Suite("SharedCount: node deleted and recreated", .timeLimit(.minutes(1)))
struct SharedCountRecreateTests {
    @Test("the node is deleted and recreated (its version starts over): the cached value follows it")
    func followsARecreatedNode() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/counters/recreated"
                let shared = SharedCount(client: clients[0], path: path, seedValue: 1)
                try await shared.withStarted { shared in
                    for value: Int32 in 2...4 { try await shared.setCount(value) }  // version 3
                    let changes = shared.changes()
                    try await clients[1].delete(path)
                    try await clients[1].create(path, data: CounterCoding.bytes(of: Int32(42)))  // version 0
                    try await eventually(within: .seconds(10)) { shared.count == 42 }
                    #expect(shared.versionedValue == VersionedValue(version: 0, value: 42))
                    let seen = try await withTimeout(.seconds(5)) { () -> Int32? in
                        for await value in changes.dropFirst() { return value }  // after the current value
                        return nil
                    }
                    #expect(seen == 42)
                    // Compare-and-set works against the new node.
                    #expect(try await shared.trySetCount(expected: shared.versionedValue!, newValue: 43))
                    _ = try await clients[1].sync(path)  // maybe another member: read what clients[0] wrote
                    #expect(try await clients[1].getData(path).data == CounterCoding.bytes(of: Int32(43)))
                }
            }
        }
    }
}
