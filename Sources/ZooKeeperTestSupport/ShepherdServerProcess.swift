import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Our `zk-server` executable run as a child process (a ``SupervisedProcess``: it dies with the
/// test process) on 127.0.0.1 with a temporary data directory, for crash and restart tests.
/// The port is chosen free once and kept across ``restart()``s, like the data directory.
public final class ShepherdServerProcess: Sendable {
    /// The built `zk-server`: `$SHEPHERD_ZK_SERVER`, else next to the running test binary
    /// (`.build/<config>/`), else nil.
    public static var binaryPath: String? {
        if let path = ProcessInfo.processInfo.environment["SHEPHERD_ZK_SERVER"], access(path, X_OK) == 0 { return path }
        var candidates: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(exe)
        }
        candidates.append(CommandLine.arguments[0])
        for candidate in candidates {
            var directory = URL(fileURLWithPath: candidate).deletingLastPathComponent()
            // macOS bundles: .build/debug/X.xctest/Contents/MacOS/X
            for _ in 0..<4 {
                let path = directory.appendingPathComponent("zk-server").path
                if access(path, X_OK) == 0 { return path }
                directory = directory.deletingLastPathComponent()
            }
        }
        return nil
    }

    public static let notBuiltMessage =
        "zk-server is not built next to the test binary (run `swift build` first, as .ci/run does, or set SHEPHERD_ZK_SERVER)"

    public let binary: String
    public let directory: String
    public let port: Int
    public let extraConfig: [String]
    public var dataDirectory: String { directory + "/data" }
    public var configFile: String { directory + "/zoo.cfg" }
    public var logFile: String { directory + "/server.log" }
    public var connectString: String { "127.0.0.1:\(port)" }
    private let process = Mutex<SupervisedProcess?>(nil)

    /// Prepares the directory and zoo.cfg (`tickTime`, `dataDir`, `clientPort`, everything
    /// whitelisted, plus `extraConfig` lines such as `snapCount=100`); does not start.
    public init(extraConfig: [String] = [], tickTime: Int = 2000) throws {
        guard let binary = Self.binaryPath else { throw TestSupportError(Self.notBuiltMessage) }
        self.binary = binary
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        directory = base + "/shepherd-zkserver-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        port = try SocketHelpers.freeLoopbackPort()
        self.extraConfig = extraConfig
        let lines = [
            "tickTime=\(tickTime)", "dataDir=\(directory)/data", "clientPort=\(port)",
            "clientPortAddress=127.0.0.1", "maxClientCnxns=0", "4lw.commands.whitelist=*",
        ] + extraConfig
        try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/zoo.cfg", atomically: true, encoding: .utf8)
    }

    deinit { cleanup() }

    public var pid: pid_t? { process.withLock { $0?.pid } }

    /// Starts the server and waits (bounded) until `ruok` answers `imok` (probed every `pollInterval`).
    public func start(timeout: Duration = .seconds(30), pollInterval: Duration = .milliseconds(20)) async throws {
        let child = try SupervisedProcess(path: binary, arguments: [configFile], outputFile: logFile)
        process.withLock { $0 = child }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if let status = child.exitStatus {
                process.withLock { $0 = nil }
                throw TestSupportError("zk-server \(ChildProcess.describe(status: status)) at start-up.\n\(logTail())")
            }
            if (try? sendFourLetterWord("ruok", host: "127.0.0.1", port: port, timeout: .seconds(1))) == "imok" { return }
            try await Task.sleep(for: pollInterval)
        }
        child.terminate(signal: SIGKILL, grace: .zero)
        process.withLock { $0 = nil }
        throw TestSupportError("zk-server did not answer ruok within \(timeout).\n\(logTail())")
    }

    /// SIGKILL: a crash. Returns once the process is gone.
    public func kill() {
        let child = process.withLock { state in defer { state = nil }; return state }
        child?.terminate(signal: SIGKILL, grace: .zero)
    }

    /// SIGTERM (a clean stop) and waits; SIGKILL after `grace`. Returns the wait status.
    @discardableResult
    public func stop(grace: Duration = .seconds(15)) -> Int32? {
        let child = process.withLock { state in defer { state = nil }; return state }
        return child?.terminate(signal: SIGTERM, grace: grace)
    }

    /// Kills the server if it runs and removes the directory (`SHEPHERD_KEEP_ZK_DIRS=1` keeps it).
    public func cleanup() {
        kill()
        if ProcessInfo.processInfo.environment["SHEPHERD_KEEP_ZK_DIRS"] != "1" {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    public func logTail(maxBytes: Int = 8192) -> String {
        let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "(no log)"
        return "--- \(logFile) ---\n" + String(text.suffix(maxBytes))
    }
}
