import Foundation
import ToolSupport
import ZooKeeperTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One server process measured by `zk-bench servers`: ours (the `zk-server` executable next to
/// zk-bench) or Apache ZooKeeper 3.8 standalone (the Debian jars, JVM defaults as `zkServer.sh` runs
/// it). Both on a free loopback port with a temporary directory, fsync on (`forceSync=yes`), the same
/// `snapCount` and 64 MiB log preallocation. Each instance registers a last-resort cleanup with
/// ``Interrupts`` so a hard exit still kills it and removes its files.
final class ServerUnderTest: Sendable {
    enum Kind: String, Sendable {
        case shepherd, apache
        var title: String { self == .shepherd ? "Shepherd server" : "Apache ZooKeeper" }
    }

    private enum Backend: Sendable {
        case shepherd(ShepherdServerProcess)
        case apache(ApacheZooKeeper)
    }

    struct Settings: Sendable {
        var snapCount: Int
        var apacheHeap: String
    }

    let kind: Kind
    private let backend: Backend
    private let cleanupID: Int
    /// Readiness probing interval for both servers, so neither gains from coarser polling.
    static let pollInterval: Duration = .milliseconds(10)

    init(_ kind: Kind, settings: Settings) throws {
        self.kind = kind
        let common = ["forceSync=yes", "snapCount=\(settings.snapCount)", "preAllocSize=65536"]
        switch kind {
        case .shepherd:
            guard Self.shepherdBinary != nil else {
                throw UsageError("""
                    servers mode needs the zk-server executable next to zk-bench \
                    (build both: swift build -c release --product zk-bench --product zk-server), \
                    or SHEPHERD_ZK_SERVER=/path/to/zk-server
                    """)
            }
            backend = .shepherd(try ShepherdServerProcess(extraConfig: common))
        case .apache:
            guard ApacheZooKeeper.isInstalled else {
                throw UsageError("servers mode needs Apache ZooKeeper from Debian: apt-get install zookeeper libzookeeper-java")
            }
            backend = .apache(try ApacheZooKeeper(configuration: .init(
                extraConfig: common, heap: settings.apacheHeap, startTimeout: .seconds(600), stopTimeout: .seconds(60),
                jvmTuning: [], readinessPollInterval: Self.pollInterval)))
        }
        let backend = self.backend
        cleanupID = Interrupts.addCleanup { Self.cleanup(backend) }
    }

    /// `$SHEPHERD_ZK_SERVER`, else `zk-server` in the directory of this executable.
    static var shepherdBinary: String? {
        if let path = ProcessInfo.processInfo.environment["SHEPHERD_ZK_SERVER"], !path.isEmpty {
            return access(path, X_OK) == 0 ? path : nil
        }
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            let path = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("zk-server").path
            return access(path, X_OK) == 0 ? path : nil
        }
        let path = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("zk-server").path
        return access(path, X_OK) == 0 ? path : nil
    }

    var connectString: String {
        switch backend {
        case let .shepherd(server): server.connectString
        case let .apache(server): server.connectString
        }
    }

    /// The server process (for Apache, the JVM itself).
    var pid: Int32? {
        switch backend {
        case let .shepherd(server): server.pid
        case let .apache(server): server.pid
        }
    }

    var dataDirectory: String {
        switch backend {
        case let .shepherd(server): server.dataDirectory
        case let .apache(server): server.dataDirectory
        }
    }

    var logTail: String {
        switch backend {
        case let .shepherd(server): server.logTail()
        case let .apache(server): server.logTail()
        }
    }

    /// Starts the process and returns once it serves: ours binds its port only after recovery, so
    /// `ruok` suffices; Apache accepts (and answers `ruok`) while still loading, so its fixture also
    /// waits for `srvr` to report `Mode: standalone`.
    func start() async throws {
        switch backend {
        case let .shepherd(server): try await server.start(timeout: .seconds(600), pollInterval: Self.pollInterval)
        case let .apache(server): try await server.start()
        }
    }

    /// SIGTERM (a clean shutdown), waiting for the exit.
    func stop() async throws {
        switch backend {
        case let .shepherd(server):
            let status = await Task.detached { server.stop(grace: .seconds(60)) }.value
            if let status, status != 0 {
                Output.warn("zk-server exited with wait status \(status) on SIGTERM")
            }
        case let .apache(server): try await server.stop()
        }
    }

    /// Kills the process if it runs and removes its directory. Idempotent.
    func cleanup() {
        Self.cleanup(backend)
        Interrupts.removeCleanup(cleanupID)
    }

    private static func cleanup(_ backend: Backend) {
        switch backend {
        case let .shepherd(server): server.cleanup()
        case let .apache(server): server.cleanup()
        }
    }
}
