import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// Connects to the selected test server (Apache ZooKeeper by default) under a fresh chroot of its own.
///
/// The chroot node is created first (with its parents) through an unchrooted client, so each test
/// sees an empty tree at `/`.
func withTestClient<T: Sendable>(
    _ label: String,
    sessionTimeout: Duration = .seconds(10),
    _ body: (ZooKeeperClient, TestContext) async throws -> T
) async throws -> T {
    let server = try await TestServerFixture.shared()
    let chroot = server.uniqueChroot(label)
    try await ensurePath(chroot, connectString: server.connectString)
    var configuration = try ZooKeeperConfiguration(connectionString: server.connectString(chroot: chroot))
    configuration.sessionTimeout = sessionTimeout
    let context = TestContext(server: server, chroot: chroot, configuration: configuration)
    return try await withZooKeeperClient(configuration) { client in try await body(client, context) }
}

/// What a test may need besides its client: the server handle and how to open more clients on the same chroot.
struct TestContext: Sendable {
    let server: TestServerHandle
    let chroot: String
    let configuration: ZooKeeperConfiguration

    /// Another client on the same chroot (its own session), caught up with everything committed before (on an
    /// ensemble it may be on another member than the test's client). The caller closes it.
    func newClient(_ adjust: (inout ZooKeeperConfiguration) -> Void = { _ in }) async throws -> ZooKeeperClient {
        var configuration = configuration
        adjust(&configuration)
        let client = try await ZooKeeperClient.connect(configuration)
        do {
            _ = try await client.sync("/")
        } catch {
            await client.close()
            throw error
        }
        return client
    }
}

/// Creates `path` and its missing parents (like `mkdir -p`).
func ensurePath(_ path: String, connectString: String) async throws {
    try await withZooKeeperClient(try ZooKeeperConfiguration(connectionString: connectString)) { client in
        for prefix in try ZNodePath(path).prefixes {
            do { try await client.create(prefix) } catch let error as ZooKeeperError where error.code == .nodeExists {}
        }
    }
}

/// Whether the integration suites can run here; otherwise they are skipped with the reason.
let integrationEnabled = TestServerFixture.isAvailable
let integrationSkipReason: Comment = Comment(rawValue: TestServerFixture.unavailableReason ?? "")

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
