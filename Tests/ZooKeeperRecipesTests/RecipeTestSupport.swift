import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

/// An embedded server for one test, stopped afterwards (even when the body throws).
func withEmbeddedServer<T: Sendable>(_ body: (EmbeddedServer) async throws -> T) async throws -> T {
    let server = try await EmbeddedServer.start(inMemory: true)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// `count` clients (each its own session) on `server`, closed afterwards.
func withClients<T: Sendable>(
    _ count: Int, on server: EmbeddedServer, sessionTimeout: Duration = .seconds(4),
    _ body: ([ZooKeeperClient]) async throws -> T
) async throws -> T {
    var clients: [ZooKeeperClient] = []
    func closeAll() async { for client in clients { await client.close() } }
    do {
        for _ in 0..<count {
            var configuration = try ZooKeeperConfiguration(connectionString: server.connectString)
            configuration.sessionTimeout = sessionTimeout
            clients.append(try await ZooKeeperClient.connect(configuration))
        }
        let result = try await body(clients)
        await closeAll()
        return result
    } catch {
        await closeAll()
        throw error
    }
}

/// An independent witness of mutual exclusion: counts holders, records any overlap.
final class ExclusionWitness: Sendable {
    private struct State {
        var holders = 0
        var violations = 0
        var entries = 0
        var order: [Int] = []
        var tokens: [Int64] = []
    }
    private let state = Mutex(State())

    func enter(_ who: Int, token: Int64) {
        state.withLock { state in
            state.holders += 1
            if state.holders != 1 { state.violations += 1 }
            state.entries += 1
            state.order.append(who)
            state.tokens.append(token)
        }
    }

    func exit() { state.withLock { $0.holders -= 1 } }

    var violations: Int { state.withLock { $0.violations } }
    var entries: Int { state.withLock { $0.entries } }
    var order: [Int] { state.withLock { $0.order } }
    var tokens: [Int64] { state.withLock { $0.tokens } }
}

/// A thread-safe box for test bookkeeping.
final class Box<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    var get: Value { value.withLock { $0 } }
    func update<R: Sendable>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
}

/// Waits until `path` has exactly `count` children.
func waitForChildren(_ client: ZooKeeperClient, _ path: ZNodePath, count: Int, within: Duration = .seconds(10)) async throws {
    try await eventually(within: within) {
        ((try? await client.getChildren(path)) ?? []).count == count
    }
}

/// Waits for a connection state matching `predicate` on `states`, bounded.
func waitForState(
    _ states: AsyncStream<ConnectionState>, within: Duration = .seconds(10),
    _ predicate: @escaping @Sendable (ConnectionState) -> Bool
) async throws {
    try await withTimeout(within) {
        for await state in states where predicate(state) { return }
        throw TimeoutError(duration: within, what: "state stream ended")
    }
}
