import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// A client of a server started by the test (no chroot), with a given session timeout.
func connectClient(_ connectString: String, sessionTimeout: Duration = .seconds(10)) async throws -> ZooKeeperClient {
    var configuration = try ZooKeeperConfiguration(connectionString: connectString)
    configuration.sessionTimeout = sessionTimeout
    return try await ZooKeeperClient.connect(configuration)
}

/// Closes `client`, bounded (a client cut off from its server must not hang the test).
func closeBounded(_ client: ZooKeeperClient) async {
    _ = try? await withTimeout(.seconds(15)) { await client.close() }
}

/// A value shared with child tasks (a `Mutex` cannot be captured by a sending closure).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value { mutex.withLock { $0 } }
    func update(_ body: (inout Value) -> Void) { mutex.withLock { body(&$0) } }
}
