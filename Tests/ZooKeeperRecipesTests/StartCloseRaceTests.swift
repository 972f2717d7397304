import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperTestSupport

/// Defect: `close()` during `start()` returned before the tasks `start()` was about to store existed (and
/// before `start()` itself had stopped issuing requests): nobody waited for them.
///
/// Observed through the client: once `close()` has returned, the test closes the recipe's client. A
/// `start()` (or a task of it) still running then fails on the closed client — a `ZooKeeperError` out
/// of `start()`. After a correct `close()`, `start()` has already ended: it succeeded, or it saw the close.
@Suite("Lifecycle: close() during start() waits for what start() runs", .timeLimit(.minutes(2)))
struct StartCloseRaceTests {
    private static let rounds = 30

    @Test("TreeCache") func treeCache() async throws {
        try await race { client, i in TreeCache(client: client, path: try ZNodePath("/race/tree\(i)")) }
    }

    @Test("NodeCache") func nodeCache() async throws {
        try await race { client, i in NodeCache(client: client, path: try ZNodePath("/race/node\(i)")) }
    }

    @Test("SharedCount") func sharedCount() async throws {
        try await race { client, i in SharedCount(client: client, path: try ZNodePath("/race/count\(i)"), seedValue: 1) }
    }

    @Test("ServiceCache") func serviceCache() async throws {
        try await race { client, i in
            try ServiceDiscovery<String>(client: client, basePath: try ZNodePath("/race/services\(i)")).serviceCache(named: "api")
        }
    }

    private func race(_ make: @escaping @Sendable (ZooKeeperClient, Int) throws -> any LongLivedRecipe) async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                // Some of the caches' nodes exist (more to read in start), some do not.
                _ = try? await clients[0].create("/race", data: [])
                for i in 0..<4 { _ = try? await clients[0].create(try ZNodePath("/race/tree\(i)"), data: [1]) }
            }
            var stillRunning = 0
            for round in 0..<Self.rounds {
                try await withClients(1, on: server) { clients in
                    let client = clients[0]
                    let recipe = try make(client, round % 8)
                    let starting = Task { try await recipe.start() }
                    // Close at varying points of start(): before it, during its requests, after it.
                    for _ in 0..<(round * 7 % 40) { await Task.yield() }
                    await recipe.close()
                    await client.close()  // close() has returned: nothing of the recipe may still need it
                    switch await starting.result {
                    case .success: break
                    case .failure(let error as RecipeLifecycleError) where error == .closed: break
                    case .failure(let error):
                        stillRunning += 1
                        Issue.record("round \(round): start() still ran after close() returned: \(error)")
                    }
                }
                if stillRunning > 2 { break }  // enough to show it
            }
        }
    }
}
