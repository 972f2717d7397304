import Foundation
import Testing
import ZooKeeperHTTP
import ZooKeeperServer
import ZooKeeperTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The `zk-inspector` executable end to end: it prints its URL, serves, replaces an expired session with
/// a new one on the same port, and exits 0 on SIGTERM.
@Suite(.timeLimit(.minutes(2))) struct InspectorExecutableTests {
    /// Built beside the test bundle by `swift build` (which `swift test` runs first).
    static let executable: String? = {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [directory, directory.deletingLastPathComponent(), directory.deletingLastPathComponent().deletingLastPathComponent()]
            .map { $0.appendingPathComponent("zk-inspector").path }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    @Test(.enabled(if: executable != nil || HeadlessChromium.required, "the zk-inspector executable is not built"))
    func servesAndSurvivesASessionExpiry() async throws {
        let executable = try #require(Self.executable, "zk-inspector not found beside \(CommandLine.arguments[0])")
        try await withEmbeddedServer(inMemory: true) { server in
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("zk-inspector-\(UUID().uuidString).log").path
            defer { try? FileManager.default.removeItem(atPath: log) }
            let process = try SupervisedProcess(path: executable, arguments: ["--connect", server.connectString, "--listen", "127.0.0.1:0"],
                                                outputFile: log)
            do {
                try await exercise(process, server)
            } catch {
                _ = try? await offPool { process.terminate(signal: SIGKILL, grace: .zero) }
                throw error
            }
        }
    }

    private func exercise(_ process: SupervisedProcess, _ server: EmbeddedServer) async throws {
        var port = 0
        try await eventually(within: .seconds(20)) {
            guard let range = process.output.range(of: #"http://127\.0\.0\.1:(\d+)/"#, options: .regularExpression) else { return false }
            port = Int(process.output[range].split(separator: ":").last?.dropLast() ?? "") ?? 0
            return port > 0
        }
        let first = try #require(try await getJSON(port: port, "/api/info")["session"]?.stringValue)
        let id = try #require(UInt64(first.dropFirst(2), radix: 16))
        await server.expireSession(Int64(bitPattern: id))
        var second = first
        try await eventually(within: .seconds(30)) {
            second = (try? await getJSON(port: port, "/api/info")["session"]?.stringValue) ?? first
            return second != first
        }
        #expect(process.output.contains("session was lost"), "\(process.output)")
        let status = try await offPool { process.terminate(signal: SIGTERM, grace: .seconds(10)) }
        #expect(status.map { $0 & 0x7F == 0 && ($0 >> 8) & 0xFF == 0 } == true, "exit 0 on SIGTERM: \(process.output)")
    }
}
