import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

@Suite("Sessions", .enabled(if: integrationEnabled, integrationSkipReason), .timeLimit(.minutes(1)))
struct SessionTests {
    @Test("a saved session is resumed by a new client object: same id, its ephemerals stay")
    func resumeFromSavedSession() async throws {
        try await withTestClient("resume") { _, context in
            let first = try await context.newClient()
            try await first.create("/mine", mode: .ephemeral)
            let saved = try JSONEncoder().encode(try #require(first.session))
            let states = first.connectionStates()

            var configuration = context.configuration
            // The same server: a session moving within one server closes its old connection (across an
            // ensemble's members the old one is only refused later, with SESSIONMOVED).
            if let server = first.currentServer { configuration.servers = [server] }
            configuration.session = try JSONDecoder().decode(SessionInfo.self, from: saved)
            let second = try await ZooKeeperClient.connect(configuration)
            #expect(second.session?.id == first.session?.id)
            // Both clients now own the session and may move it back and forth: retry on connection loss.
            let owner = try await retryingConnectionLoss { try await second.exists("/mine")?.ephemeralOwner }
            #expect(owner == second.session?.id)
            // The server moved the session: the first client's connection was closed.
            try await withTimeout(.seconds(10)) {
                for await state in states where state == .suspended { return }
            }
            // Closing ends the shared session: at once if a client holding the connection sends
            // closeSession, else when the (10 s) session times out. Either way the ephemeral goes.
            await second.close()
            await first.close()
            let third = try await context.newClient()
            try await eventually(within: .seconds(30)) { try await third.exists("/mine") == nil }
        }
    }

    @Test("the negotiated timeout is clamped by the server; close() ends with lost(closed)")
    func negotiatedTimeout() async throws {
        try await withTestClient("timeout", sessionTimeout: .milliseconds(100)) { zk, _ in
            // Apache's default minimum is 2 × tickTime = 4 s.
            #expect(zk.session?.timeoutMilliseconds == 4000)
            #expect(zk.connectionState == .connected)
        }
    }
}

/// Runs `body`, retrying while it fails with connectionLoss (bounded).
func retryingConnectionLoss<T: Sendable>(within: Duration = .seconds(10), _ body: () async throws -> T) async throws -> T {
    let deadline = ContinuousClock.now + within
    while true {
        do { return try await body() } catch let error as ZooKeeperError where error.code == .connectionLoss && .now < deadline {
            continue
        }
    }
}
