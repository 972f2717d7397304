import Foundation
import Synchronization
import ZooKeeperCLI
import ZooKeeperServer
import ZooKeeperTestSupport

/// Collects a shell's output lines, in order, remembering which went to stderr.
final class OutputCollector: Sendable {
    private let storage = Mutex<[(line: String, isError: Bool)]>([])
    var lines: [String] { storage.withLock { $0.map(\.line) } }
    func append(_ line: String, isError: Bool = false) { storage.withLock { $0.append((line, isError)) } }
    /// Lines printed since `mark` (a previous `lines.count`).
    func lines(since mark: Int) -> [String] { Array(lines.dropFirst(mark)) }
    /// Lines printed since `mark`, each prefixed with its stream as a shell redirects it: `1>` or `2>`.
    func streamLines(since mark: Int) -> [String] {
        storage.withLock { $0.dropFirst(mark).map { ($0.isError ? "2> " : "1> ") + $0.line } }
    }
}

/// A shell connected to a fresh in-memory embedded server.
struct ShellFixture {
    let server: EmbeddedServer
    let shell: Shell
    let output: OutputCollector

    static func start() async throws -> ShellFixture {
        let server = try await EmbeddedServer.start(inMemory: true)
        let output = OutputCollector()
        let shell = Shell(output: { output.append($0) }, errorOutput: { output.append($0, isError: true) })
        try await shell.connect(to: server.connectString)
        return ShellFixture(server: server, shell: shell, output: output)
    }

    /// Runs one line; returns what it printed (masked) and how it ended.
    @discardableResult
    func run(_ line: String) async -> (lines: [String], outcome: CommandOutcome) {
        let mark = output.lines.count
        let outcome = await shell.execute(line)
        return (output.lines(since: mark).map(mask), outcome)
    }

    /// Runs one line; returns what it printed (masked), each line prefixed `1> ` (stdout) or `2> ` (stderr).
    func streams(_ line: String) async -> [String] {
        let mark = output.lines.count
        await shell.execute(line)
        return output.streamLines(since: mark).map(mask)
    }

    func stop() async {
        await shell.shutdown()
        await server.stop()
    }
}

/// Runs `body` with a fresh fixture, stopped before this returns, whether `body` throws or not.
func withShellFixture(_ body: (ShellFixture) async throws -> Void) async throws {
    let fixture = try await ShellFixture.start()
    try await withCleanup({ await fixture.stop() }) { try await body(fixture) }
}

/// Masks what changes from run to run: dates and hex numbers (zxids, session ids).
func mask(_ line: String) -> String {
    var line = line
    if line.hasPrefix("ctime = ") || line.hasPrefix("mtime = ") { line = String(line.prefix(8)) + "<date>" }
    return line.replacingOccurrences(of: #"0x[0-9a-fA-F]+"#, with: "0x?", options: .regularExpression)
}

/// The eleven masked stat lines with the given counters.
func statLines(cversion: Int = 0, dataVersion: Int = 0, aclVersion: Int = 0, dataLength: Int, numChildren: Int = 0) -> [String] {
    ["cZxid = 0x?", "ctime = <date>", "mZxid = 0x?", "mtime = <date>", "pZxid = 0x?", "cversion = \(cversion)",
     "dataVersion = \(dataVersion)", "aclVersion = \(aclVersion)", "ephemeralOwner = 0x?", "dataLength = \(dataLength)",
     "numChildren = \(numChildren)"]
}

/// The built `zk-cli` next to the test binary, or `$SHEPHERD_ZK_CLI`.
let zkCliBinary: String? = {
    if let path = ProcessInfo.processInfo.environment["SHEPHERD_ZK_CLI"], access(path, X_OK) == 0 { return path }
    var candidates: [String] = []
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { candidates.append(exe) }
    candidates.append(CommandLine.arguments[0])
    for candidate in candidates {
        var directory = URL(fileURLWithPath: candidate).deletingLastPathComponent()
        for _ in 0..<4 {
            let path = directory.appendingPathComponent("zk-cli").path
            if access(path, X_OK) == 0 { return path }
            directory = directory.deletingLastPathComponent()
        }
    }
    return nil
}()
