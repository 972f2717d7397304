import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

/// Takes the next element of `stream` within `timeout`.
func next<T: Sendable>(_ stream: AsyncStream<T>, within timeout: Duration = .seconds(10)) async throws -> T {
    try await withTimeout(timeout) {
        for await element in stream { return element }
        throw TimeoutError(duration: timeout, what: "the stream finished")
    }
}

@Suite("PersistentNode", .timeLimit(.minutes(1)))
struct PersistentNodeTests {
    @Test("ephemeral: created with its data, setData writes it, recreated with the latest data after a delete, close deletes")
    func ephemeralRecreatedAfterDelete() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/workers/a"
                let node = try PersistentNode(client: clients[0], path: path, data: Array("v1".utf8))
                try await node.start()
                try await node.waitForInitialCreate(timeout: .seconds(10))
                #expect(node.actualPath == path.string)
                _ = try await clients[1].sync(path)  // maybe another member: read what the node's client created
                let (data, stat) = try await clients[1].getData(path)
                #expect(data == Array("v1".utf8))
                #expect(stat.ephemeralOwner == clients[0].session!.id)

                try await node.setData(Array("v2".utf8))
                _ = try await clients[1].sync(path)  // maybe another member: read what the node's client wrote
                #expect(try await clients[1].getData(path).data == Array("v2".utf8))

                let created = node.createdPaths()
                #expect(try await next(created) == path.string, "the current node first")
                try await clients[1].delete(path)
                #expect(try await next(created) == path.string, "recreated")
                _ = try await clients[1].sync(path)  // maybe another member: read what the node's client recreated
                let again = try #require(try await clients[1].getData(path) as ([UInt8], Stat)?)
                #expect(again.0 == Array("v2".utf8))
                #expect(again.1.ephemeralOwner == clients[0].session!.id)
                #expect(again.1.czxid > stat.czxid)

                await node.close()
                _ = try await clients[1].sync(path)  // maybe another member: read what the node's client deleted
                #expect(try await clients[1].exists(path) == nil)
                #expect(node.actualPath == nil)
            }
        }
    }

    @Test("protected ephemeral-sequential: Curator's protected name; a new sequence after a delete; close leaves nothing")
    func protectedSequential() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                // A persistent parent: one the node would create is a container, which Apache removes once
                // the delete below empties it; recreated, its sequence restarts and the new node may get the
                // very same name (ZooKeeper numbers children per parent node, not per path).
                try await clients[1].create("/seq")
                let node = try PersistentNode(client: clients[0], path: "/seq/member-", mode: .ephemeralSequential,
                                              data: Array("x".utf8))
                #expect(node.isProtected)
                let created = node.createdPaths()
                try await node.start()
                let first = try await next(created)
                let name = String(first.split(separator: "/").last!)
                #expect(name.hasPrefix("_c_") && name.count == 40 + "member-".count + 10, "\(name)")
                try await clients[1].delete(try ZNodePath(first))
                let second = try await next(created)
                #expect(second != first)
                #expect(second.hasPrefix(String(first.prefix(first.count - 10))), "same protected prefix, new sequence")
                _ = try await clients[1].sync("/seq")  // maybe another member: read what the node's client recreated
                #expect(try await clients[1].getChildren("/seq").count == 1)
                await node.close()
                #expect(try await leftovers(clients[1], "/seq").isEmpty)
            }
        }
    }

    @Test("a lost create reply: the protected create adopts the node instead of leaving a ghost",
          .enabled(if: RecipeServer.targetIsEmbedded, "needs the embedded server's fault injection"))
    func lostCreateReply() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                try await clients[1].create("/lost")
                await (try server.faults).loseNextReply { op, nodePath in
                    (op == .create || op == .create2) && nodePath?.contains("_c_") == true
                }
                let states = clients[0].connectionStates()
                let node = try PersistentNode(client: clients[0], path: "/lost/n-", mode: .ephemeralSequential)
                try await node.start()
                try await node.waitForInitialCreate(timeout: .seconds(10))
                try await waitForState(states) { $0 == .reconnected }  // the reply really was lost
                let children = try await clients[1].getChildren("/lost")
                #expect(children.count == 1, "one node, no ghost: \(children)")
                #expect(node.actualPath == "/lost/" + (children.first ?? "?"))
                await node.close()
                #expect(try await leftovers(clients[1], "/lost").isEmpty)
            }
        }
    }

    @Test("a dropped connection keeps the same node (no second one)")
    func droppedConnection() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let node = try PersistentNode(client: clients[0], path: "/drop/me-", mode: .ephemeralSequential)
                try await node.start()
                try await node.waitForInitialCreate(timeout: .seconds(10))
                let before = try #require(node.actualPath)
                let states = clients[0].connectionStates()
                try await server.dropConnection(of: clients[0])
                try await waitForState(states) { $0 == .reconnected }
                _ = try await clients[1].sync("/drop")  // maybe another member: read what the node's client created
                #expect(try await clients[1].getChildren("/drop").count == 1)
                #expect(node.actualPath == before)
                await node.close()
                #expect(try await leftovers(clients[1], "/drop").isEmpty)
            }
        }
    }

    @Test("a delete while the client is cut off is repaired after it reconnects",
          .enabled(if: RecipeServer.targetIsEmbedded, "needs the embedded server's fault injection"))
    func deletedWhilePartitioned() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let node = try PersistentNode(client: clients[0], path: "/cut/me-", mode: .ephemeralSequential)
                try await node.start()
                try await node.waitForInitialCreate(timeout: .seconds(10))
                let before = try #require(node.actualPath)
                let session = try #require(clients[0].session).id
                let states = clients[0].connectionStates()
                await (try server.faults).partition(session: session)
                try await waitForState(states) { $0 == .suspended }
                try await clients[1].delete(try ZNodePath(before))
                await (try server.faults).heal(session: session)
                try await waitForState(states) { $0 == .reconnected }
                try await eventually(within: .seconds(10)) {
                    guard let path = node.actualPath, path != before else { return false }
                    return (try? await clients[1].exists(try ZNodePath(path))) != nil
                }
                #expect(try await clients[1].getChildren("/cut").count == 1)
                await node.close()
                #expect(try await leftovers(clients[1], "/cut").isEmpty)
            }
        }
    }

    @Test("session loss with a reconnect factory: the node is recreated by the new session")
    func sessionLossRecreates() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let observer = clients[0]
                let made = ClientFactory(server)  // every client it makes, for the checks and closing
                let node = try PersistentNode(client: try await made.connect(), path: "/alive/me", data: Array("p".utf8),
                                              reconnect: { try await made.connect() })
                try await node.start()
                try await node.waitForInitialCreate(timeout: .seconds(10))
                _ = try await observer.sync("/alive/me")  // maybe another member: read what the node's client created
                let oldSession = try #require(try await observer.exists("/alive/me")).ephemeralOwner
                try await server.expireSession(made.clients[0].session)
                try await eventually(within: .seconds(10)) {
                    guard let stat = try? await observer.exists("/alive/me") else { return false }
                    return stat.ephemeralOwner != oldSession
                }
                #expect(made.clients.count == 2)
                #expect(node.client === made.clients[1])
                #expect(try await observer.getData("/alive/me").data == Array("p".utf8))
                await node.close()
                _ = try await observer.sync("/alive/me")
                #expect(try await observer.exists("/alive/me") == nil)
                for client in made.clients { await client.close() }
            }
        }
    }

    @Test("an unprotected path held by another session's ephemeral is left alone until it goes")
    func waitsForAnotherSessionsNode() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                try await clients[1].create("/held")
                try await clients[1].create("/held/x", data: Array("theirs".utf8), mode: .ephemeral)
                let node = try PersistentNode(client: clients[0], path: "/held/x", data: Array("ours".utf8))
                try await node.start()
                await #expect(throws: PersistentNodeError.timedOut) { try await node.waitForInitialCreate(timeout: .milliseconds(300)) }
                #expect(try await clients[1].getData("/held/x").data == Array("theirs".utf8))
                try await clients[1].delete("/held/x")
                try await node.waitForInitialCreate(timeout: .seconds(10))
                _ = try await clients[1].sync("/held/x")  // maybe another member: read what clients[0] created
                let (data, stat) = try await clients[1].getData("/held/x")
                #expect(data == Array("ours".utf8))
                #expect(stat.ephemeralOwner == clients[0].session!.id)
                await node.close()
            }
        }
    }

    @Test("persistent mode adopts an existing node, rewrites its data, and close deletes it")
    func persistentAdopts() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                try await clients[1].create("/config")
                try await clients[1].create("/config/flag", data: Array("old".utf8))
                let node = try PersistentNode(client: clients[0], path: "/config/flag", mode: .persistent,
                                              data: Array("new".utf8))
                try await node.start()
                try await node.waitForInitialCreate(timeout: .seconds(10))
                _ = try await clients[1].sync("/config/flag")  // maybe another member: read what clients[0] wrote
                let (data, stat) = try await clients[1].getData("/config/flag")
                #expect(data == Array("new".utf8))
                #expect(stat.ephemeralOwner == 0)
                await node.close()
                _ = try await clients[1].sync("/config/flag")  // maybe another member: read what clients[0] deleted
                #expect(try await clients[1].exists("/config/flag") == nil)
            }
        }
    }

    @Test("a TTL node is created with its ttl and recreated after a delete",
          .enabled(if: RecipeServer.targetIsEmbedded, "TTL nodes need extendedTypesEnabled, which the embedded server has"))
    func ttlNode() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let node = try PersistentNode(client: clients[0], path: "/ttl/n", mode: .persistentWithTTL,
                                              data: Array("t".utf8), ttl: .seconds(60))
                let created = node.createdPaths()
                try await node.start()
                #expect(try await next(created) == "/ttl/n")
                #expect(try await clients[1].getData("/ttl/n").data == Array("t".utf8))
                try await clients[1].delete("/ttl/n")
                #expect(try await next(created) == "/ttl/n")
                #expect(try await clients[1].exists("/ttl/n") != nil)
                await node.close()
                #expect(try await clients[1].exists("/ttl/n") == nil)
            }
        }
    }

    @Test("setData before start (and before the first create) is what the node is created with")
    func setDataBeforeCreate() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let node = try PersistentNode(client: clients[0], path: "/early/n", data: Array("first".utf8))
                try await node.setData(Array("second".utf8))
                #expect(node.actualPath == nil)
                try await node.start()
                try await node.waitForInitialCreate(timeout: .seconds(10))
                #expect(try await clients[0].getData("/early/n").data == Array("second".utf8))
                #expect(node.data == Array("second".utf8))
                await node.close()
                await #expect(throws: RecipeLifecycleError.closed, "closed: nothing to wait for") { try await node.waitForInitialCreate(timeout: .seconds(1)) }
            }
        }
    }

    @Test("bad configurations are refused with a clear error")
    func invalidConfigurations() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let client = clients[0]
                #expect(throws: PersistentNodeError.self) { try PersistentNode(client: client, path: "/c", mode: .container) }
                #expect(throws: PersistentNodeError.self) { try PersistentNode(client: client, path: "/t", mode: .persistentWithTTL) }
                #expect(throws: PersistentNodeError.self) {
                    try PersistentNode(client: client, path: "/t", mode: .ephemeral, ttl: .seconds(5))
                }
                #expect(throws: PersistentNodeError.self) { try PersistentNode(client: client, path: "/") }
                let error = PersistentNodeError.invalidConfiguration("x")
                #expect(error.description.contains("x"))
            }
        }
    }
}
