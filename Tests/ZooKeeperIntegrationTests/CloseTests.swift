import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

@Suite("close()", .enabled(if: integrationEnabled, integrationSkipReason), .timeLimit(.minutes(1)))
struct CloseTests {
    /// Regression: the server drops the connection right after answering closeSession; the I/O thread
    /// used to reconnect, learn the session was gone and end it as `.lost(.sessionExpired)` before
    /// close() could record `.lost(.closed)` (seen under load on 2 cores).
    @Test("close() always ends the session as .lost(.closed)")
    func closeEndsAsClosed() async throws {
        try await withTestClient("close-race") { _, context in
            var wrong: [ConnectionState] = []
            for _ in 0..<60 {
                let client = try await context.newClient()
                _ = try await client.exists("/")
                await client.close()
                if client.connectionState != .lost(.closed) { wrong.append(client.connectionState) }
            }
            #expect(wrong.isEmpty)
        }
    }

    @Test("a client released without close() ends its session: its ephemeral node goes at once, not a session timeout later")
    func releasedClientEndsItsSession() async throws {
        try await withTestClient("released", sessionTimeout: .seconds(30)) { observer, context in
            try await Self.createEphemeralAndRelease(context)
            // Before: the I/O thread kept the session alive (pinging) for as long as the process lived.
            try await eventually(within: .seconds(10)) { try await observer.exists("/owned") == nil }
        }
    }

    /// A separate function so the client's last reference is gone when it returns.
    private static func createEphemeralAndRelease(_ context: TestContext) async throws {
        let client = try await context.newClient { $0.sessionTimeout = .seconds(30) }
        try await client.create("/owned", mode: .ephemeral)
    }

    @Test("cancelling run() closes the session (closeSession sent): its ephemeral node is gone when run() returns")
    func cancelledRunClosesTheSession() async throws {
        try await withTestClient("run-cancelled", sessionTimeout: .seconds(30)) { observer, context in
            let client = try ZooKeeperClient(configuration: context.configuration)
            let running = Task { try await client.run() }
            try await client.waitUntilConnected(timeout: .seconds(10))
            try await client.create("/owned", mode: .ephemeral)
            running.cancel()
            _ = await running.result
            #expect(client.connectionState == .lost(.closed))
            // Before: run() ended the client without closeSession; the node lived 30 s more.
            _ = try await observer.sync("/")
            #expect(try await observer.exists("/owned") == nil)
        }
    }
}
