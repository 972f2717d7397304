import Foundation
import Testing
import ZooKeeperServer
import ZooKeeperTestSupport

/// `withEmbeddedServer` stops its server before it returns, on every path: a test that uses it leaves
/// nothing running behind it (a detached `Task { await server.stop() }` would).
@Suite("Scoped fixtures", .timeLimit(.minutes(1)))
struct ScopedFixtureTests {
    struct Boom: Error {}

    /// True once nothing accepts on `port` any more.
    static func refuses(_ port: Int) -> Bool {
        (try? sendFourLetterWord("ruok", host: "127.0.0.1", port: port, timeout: .seconds(2))) == nil
    }

    @Test("returns the body's value with the server already stopped and its temporary directory removed")
    func stoppedOnReturn() async throws {
        let (port, directory, answer) = try await withEmbeddedServer { server in
            #expect(try sendFourLetterWord("ruok", host: "127.0.0.1", port: server.port, timeout: .seconds(5)) == "imok")
            return (server.port, try #require(server.dataDirectory), 42)
        }
        #expect(answer == 42)
        #expect(Self.refuses(port), "the server still answers after withEmbeddedServer returned")
        #expect(!FileManager.default.fileExists(atPath: directory), "its temporary directory is still there")
    }

    @Test("rethrows the body's error with the server already stopped")
    func stoppedOnThrow() async throws {
        var port = 0
        var directory = ""
        await #expect(throws: Boom.self) {
            try await withEmbeddedServer { server in
                port = server.port
                directory = server.dataDirectory ?? ""
                throw Boom()
            }
        }
        #expect(port != 0 && Self.refuses(port), "the server still answers after the body threw")
        #expect(!directory.isEmpty && !FileManager.default.fileExists(atPath: directory))
    }
}
