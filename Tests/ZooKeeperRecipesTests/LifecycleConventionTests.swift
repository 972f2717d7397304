import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

private struct BodyFailed: Error {}

/// The lifecycle and wait conventions (recipes-docs/README.md, "Conventions"), for all nine long-lived recipes.
@Suite("Lifecycle convention", .timeLimit(.minutes(1)))
struct LifecycleConventionTests {
    /// Every long-lived recipe on `client`, fresh (the selector made with its body, for `start()`).
    private func recipes(_ client: ZooKeeperClient, _ tag: String) throws -> [any LongLivedRecipe] {
        let base = try ZNodePath("/lifecycle/\(tag)")
        let discovery = ServiceDiscovery<String>(client: client, basePath: try base.appending("services"))
        return [
            LeaderLatch(client: client, path: try base.appending("latch")),
            LeaderSelector(client: client, path: try base.appending("selector")) { _ in },
            TreeCache(client: client, path: try base.appending("tree")),
            NodeCache(client: client, path: try base.appending("node")),
            SharedCount(client: client, path: try base.appending("count"), seedValue: 0),
            try PersistentNode(client: client, path: try base.appending("persistent")),
            try GroupMember(client: client, membershipPath: try base.appending("group"), memberID: "m"),
            discovery,
            try discovery.serviceCache(named: "api"),
        ]
    }

    @Test("start twice throws alreadyStarted; close is idempotent; start after close throws closed")
    func startAndClose() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                for recipe in try recipes(clients[0], "twice") {
                    try await recipe.start()
                    await #expect(throws: RecipeLifecycleError.alreadyStarted, "\(type(of: recipe))") { try await recipe.start() }
                    await recipe.close()
                    await recipe.close()
                    await #expect(throws: RecipeLifecycleError.closed, "\(type(of: recipe))") { try await recipe.start() }
                }
                for recipe in try recipes(clients[0], "never") {
                    await recipe.close()  // closing a recipe never started is fine, and final
                    await #expect(throws: RecipeLifecycleError.closed, "\(type(of: recipe))") { try await recipe.start() }
                }
            }
        }
    }

    @Test("withStarted runs the body on a started recipe and closes it when the body throws")
    func withStartedClosesOnThrow() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                for recipe in try recipes(clients[0], "scoped") {
                    await #expect(throws: BodyFailed.self, "\(type(of: recipe))") {
                        try await recipe.withStarted { started in
                            await #expect(throws: RecipeLifecycleError.alreadyStarted) { try await started.start() }
                            throw BodyFailed()
                        }
                    }
                    await #expect(throws: RecipeLifecycleError.closed, "closed by withStarted: \(type(of: recipe))") {
                        try await recipe.start()
                    }
                }
                // On a recipe started elsewhere: throws, and leaves it running.
                let running = LeaderLatch(client: clients[0], path: "/lifecycle/running")
                try await running.start()
                await #expect(throws: RecipeLifecycleError.alreadyStarted) { try await running.withStarted { _ in } }
                try await running.waitForLeadership(timeout: .seconds(10))
                await running.close()
                // Closed when the body returns: the node it kept is gone.
                let node = try PersistentNode(client: clients[0], path: "/lifecycle/kept")
                let path = try await node.withStarted { node in
                    try await node.waitForInitialCreate(timeout: .seconds(10))
                    return try #require(node.actualPath)
                }
                #expect(try await clients[0].exists(try ZNodePath(path)) == nil)
            }
        }
    }

    @Test("withStarted closes when its task is cancelled")
    func withStartedClosesOnCancellation() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let latch = LeaderLatch(client: clients[0], path: "/lifecycle/cancelled")
                let (led, signal) = AsyncStream.makeStream(of: Void.self)
                let task = Task {
                    try await latch.withStarted { latch in
                        try await latch.waitForLeadership(timeout: .seconds(10))
                        signal.yield()
                        try await suspendUntilCancelled()
                    }
                }
                try await withTimeout(.seconds(10)) { for await _ in led { return } }
                task.cancel()
                _ = await task.result
                #expect(!latch.hasLeadership)
                // `leftovers`: the emptied directory is a container the server may already have removed.
                #expect(try await leftovers(clients[0], "/lifecycle/cancelled").isEmpty, "closed: its node is gone")
            }
        }
    }

    @Test("waits throw .timedOut on timeout and RecipeLifecycleError.closed when the recipe closes")
    func waits() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let leader = LeaderLatch(client: clients[0], path: "/lifecycle/waits")
                try await leader.start()
                try await leader.waitForLeadership(timeout: .seconds(10))
                try await leader.waitForLeadership(timeout: .zero)  // already leading: returns at once
                let other = LeaderLatch(client: clients[1], path: "/lifecycle/waits")
                try await other.start()
                await #expect(throws: LeaderLatchError.timedOut) { try await other.waitForLeadership(timeout: .milliseconds(100)) }
                let waiting = Task { try await other.waitForLeadership() }
                await other.close()
                await #expect(throws: RecipeLifecycleError.closed) { try await waiting.value }
                await leader.close()

                // An ephemeral at the path owned by another session: ours waits for it.
                try await clients[1].create("/lifecycle/taken", data: [], mode: .ephemeral)
                let node = try PersistentNode(client: clients[0], path: "/lifecycle/taken")
                try await node.start()
                await #expect(throws: PersistentNodeError.timedOut) { try await node.waitForInitialCreate(timeout: .milliseconds(100)) }
                await node.close()
                await #expect(throws: RecipeLifecycleError.closed) { try await node.waitForInitialCreate(timeout: .seconds(10)) }
            }
        }
    }
}
