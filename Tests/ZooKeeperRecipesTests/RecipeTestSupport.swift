import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

/// The server a recipe test talks to, chosen like the integration tests' (`SHEPHERD_TEST_TARGET`):
/// by default a private in-memory embedded server per test; with `SHEPHERD_TEST_TARGET=apache` the
/// process's shared Apache ZooKeeper 3.8 under a chroot of the test's own, so the same recipe
/// tests prove both servers.
struct RecipeServer: Sendable {
    /// Host, port and chroot for clients of this test.
    let connectString: String
    /// Our server, when the test runs on it: the faults only it can inject (lost replies, partitions).
    let embedded: EmbeddedServer?
    private let host: String
    private let port: Int

    /// Whether this run's target is our embedded server (the only one with every fault).
    static var targetIsEmbedded: Bool { (try? TestServerTarget.current) == .embedded }

    /// Whether the tests can run at all (Apache's jars present when it is the target).
    static var isAvailable: Bool { TestServerFixture.isAvailable }

    fileprivate init(connectString: String, embedded: EmbeddedServer?, host: String, port: Int) {
        self.connectString = connectString
        self.embedded = embedded
        self.host = host
        self.port = port
    }

    /// Expires `session` (any server: a takeover closes it; ours: directly).
    func expireSession(_ session: SessionInfo?) async throws {
        let session = try #require(session, "no session to expire")
        if let embedded { return await embedded.expireSession(session.id) }
        try SessionTakeover.expire(session, host: host, port: port)
    }

    /// Closes `client`'s connection; the session stays alive and the client reconnects. A takeover on the
    /// server the client uses: on an ensemble only that member closes the client's connection.
    func dropConnection(of client: ZooKeeperClient) async throws {
        let session = try #require(client.session, "no session")
        if let embedded { return await embedded.dropConnection(ofSession: session.id) }
        let server = client.currentServer
        try SessionTakeover.dropConnection(of: session, host: server?.host ?? host, port: server?.port ?? port)
    }

    /// Our embedded server, for faults only it can inject; tests using it carry
    /// `.enabled(if: RecipeServer.targetIsEmbedded)`.
    var faults: EmbeddedServer {
        get throws { try #require(embedded, "this fault needs the embedded server") }
    }
}

/// Runs `body` against this run's recipe-test server (see ``RecipeServer``), cleaned up afterwards
/// even when the body throws.
func withRecipeServer<T: Sendable>(_ body: (RecipeServer) async throws -> T) async throws -> T {
    if RecipeServer.targetIsEmbedded {
        return try await withEmbeddedServer(inMemory: true) { server in
            try await body(RecipeServer(
                connectString: server.connectString, embedded: server, host: "127.0.0.1", port: server.port))
        }
    }
    let shared = try await TestServerFixture.shared()
    let chroot = shared.uniqueChroot("recipes")
    let first = try #require(shared.connectString.split(separator: ",").first)
    let hostPort = first.split(separator: ":")
    let port = try #require(hostPort.last.flatMap { Int($0) }, "no port in \(shared.connectString)")
    let setup = try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectionString: shared.connectString))
    do {
        try await createPath(chroot, using: setup)
    } catch {
        await setup.close()
        throw error
    }
    func cleanUp() async {
        try? await deleteTree(chroot, using: setup)
        await setup.close()
    }
    do {
        let result = try await body(RecipeServer(
            connectString: shared.connectString(chroot: chroot), embedded: nil,
            host: String(hostPort.dropLast().joined(separator: ":")), port: port))
        await cleanUp()
        return result
    } catch {
        await cleanUp()
        throw error
    }
}

/// Creates `path` and its missing parents (persistent, open ACL).
private func createPath(_ path: String, using client: ZooKeeperClient) async throws {
    var prefix = ""
    for component in path.split(separator: "/") {
        prefix += "/" + component
        do {
            _ = try await client.create(try ZNodePath(prefix))
        } catch let error as ZooKeeperError where error.code == .nodeExists {}
    }
}

/// Deletes `path` and everything below it (depth first).
private func deleteTree(_ path: String, using client: ZooKeeperClient) async throws {
    let node = try ZNodePath(path)
    for child in (try? await client.getChildren(node)) ?? [] {
        try await deleteTree(node.appending(child).description, using: client)
    }
    do {
        try await client.delete(node)
    } catch let error as ZooKeeperError where error.code == .noNode {}
}

/// `count` clients (each its own session) on `server`, closed afterwards.
func withClients<T: Sendable>(
    _ count: Int, on server: RecipeServer, sessionTimeout: Duration = .seconds(4),
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

/// Makes clients (each its own session, 4 s timeout) on a server and remembers them: the `reconnect:`
/// factory of recipes that outlive a session, in tests that then check and close every client made.
final class ClientFactory: Sendable {
    private let connectString: String
    private let made = Box<[ZooKeeperClient]>([])

    init(_ server: RecipeServer) { connectString = server.connectString }

    /// Every client made so far, oldest first.
    var clients: [ZooKeeperClient] { made.get }

    @Sendable func connect() async throws -> ZooKeeperClient {
        var configuration = try ZooKeeperConfiguration(connectionString: connectString)
        configuration.sessionTimeout = .seconds(4)
        let client = try await ZooKeeperClient.connect(configuration)
        made.update { $0.append(client) }
        return client
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

/// A lock or leadership body's "work": runs until its task is cancelled, then counts that in
/// `cancelled` and rethrows.
func workUntilCancelled(_ cancelled: Box<Int>? = nil) async throws {
    do {
        try await suspendUntilCancelled()
    } catch {
        cancelled?.update { $0 += 1 }
        throw error
    }
}

/// Waits until `path` has exactly `count` children.
func waitForChildren(_ client: ZooKeeperClient, _ path: ZNodePath, count: Int, within: Duration = .seconds(10)) async throws {
    try await eventually(within: within) {
        ((try? await client.getChildren(path)) ?? []).count == count
    }
}

/// Waits, bounded, until `states` shows the connection going down and then `.reconnected`.
///
/// Use it after a fault rather than `waitForState { $0 == .reconnected }` when the client may have
/// reconnected before: a stream's first element is the state *now*, which stays `.reconnected` after
/// an earlier reconnection, so that wait could return before the client even saw the new fault.
/// Subscribe (`connectionStates()`) before injecting the fault.
func waitForReconnection(_ states: AsyncStream<ConnectionState>, within: Duration = .seconds(10)) async throws {
    try await withTimeout(within) {
        var wentDown = false
        for await state in states {
            if !state.isConnected { wentDown = true } else if wentDown, state == .reconnected { return }
        }
        throw TimeoutError(duration: within, what: "state stream ended")
    }
}

/// The children left under `path`; none if `path` is gone (a lock or election directory is a
/// container, which Apache removes soon after it empties — 100 ms in the shared test server).
func leftovers(_ client: ZooKeeperClient, _ path: ZNodePath) async throws -> [String] {
    do {
        // Another client's clean-up may have gone through another member of an ensemble: catch up first.
        _ = try await client.sync(path)
        return try await client.getChildren(path)
    } catch let error as ZooKeeperError where error.code == .noNode {
        return []
    }
}
