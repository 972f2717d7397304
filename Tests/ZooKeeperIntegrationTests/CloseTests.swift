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
}
