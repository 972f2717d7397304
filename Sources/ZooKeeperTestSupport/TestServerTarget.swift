import Foundation
import Synchronization
import ZooKeeperServer

/// Which ZooKeeper server the integration tests talk to, chosen from the environment so the same
/// tests can prove several servers without changing them:
///
/// - `SHEPHERD_TEST_SERVERS=<connect string>` → ``external(connectString:)`` (a server someone
///   else runs; never restarted by tests);
/// - otherwise `SHEPHERD_TEST_TARGET=embedded` (the default) → ``embedded``: our own server, in this
///   process, started lazily (see ``TestServerFixture``);
/// - `SHEPHERD_TEST_TARGET=apache` → ``apacheStandalone``: one Apache ZooKeeper 3.8 standalone per test
///   process, from the Debian jars.
public enum TestServerTarget: Sendable, Equatable, CustomStringConvertible {
    case apacheStandalone
    case embedded
    case external(connectString: String)

    /// The target selected by the environment of this process.
    public static var current: TestServerTarget {
        get throws {
            let environment = ProcessInfo.processInfo.environment
            if let servers = environment["SHEPHERD_TEST_SERVERS"], !servers.isEmpty {
                return .external(connectString: servers)
            }
            switch environment["SHEPHERD_TEST_TARGET"] ?? "embedded" {
            case "apache": return .apacheStandalone
            case "embedded", "": return .embedded
            case let other:
                throw TestSupportError(
                    "unknown SHEPHERD_TEST_TARGET=\(other) (known: apache, embedded; or set SHEPHERD_TEST_SERVERS=<connect string>)")
            }
        }
    }

    /// Whether tests may stop, kill and restart the server.
    public var allowsFaultInjection: Bool {
        switch self {
        case .apacheStandalone: true
        case .embedded, .external: false
        }
    }

    public var description: String {
        switch self {
        case .apacheStandalone: "Apache ZooKeeper 3.8 standalone (local jars)"
        case .embedded: "Shepherd's embedded server (in process)"
        case .external(let connectString): "external servers at \(connectString)"
        }
    }
}

/// The server a test talks to: its connect string, a chroot helper and, where the target allows
/// it, fault operations.
public final class TestServerHandle: Sendable {
    public let target: TestServerTarget
    /// The server's connect string, without chroot (`host:port[,host:port…]`).
    public let connectString: String
    /// The Apache server behind this handle, when the target is ``TestServerTarget/apacheStandalone``.
    public let apache: ApacheZooKeeper?
    /// Our server behind this handle, when the target is ``TestServerTarget/embedded``.
    public let embedded: EmbeddedServer?

    init(target: TestServerTarget, connectString: String, apache: ApacheZooKeeper?, embedded: EmbeddedServer? = nil) {
        self.target = target
        self.connectString = connectString
        self.apache = apache
        self.embedded = embedded
    }

    /// A path unique to this call, under `/shepherd-tests`, for a test to use as its chroot or
    /// namespace: e.g. `/shepherd-tests/create-sequential-9f3c2a71b0d4e6f5`. `label` is cleaned
    /// to `[A-Za-z0-9_.-]`.
    ///
    /// Notable behaviours: ZooKeeper does not create a chroot; the test must create the path
    /// (e.g. with a client that has no chroot) before a chrooted client can use it.
    public func uniqueChroot(_ label: String) -> String {
        let cleaned = String(label.map { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) ? $0 : "-" })
        let suffix = String(UInt64.random(in: .min ... .max), radix: 16)
        let padded = String(repeating: "0", count: 16 - suffix.count) + suffix
        return "\(Self.testsRoot)/\(cleaned.isEmpty ? "test" : cleaned)-\(padded)"
    }

    /// The parent of every ``uniqueChroot(_:)``.
    public static let testsRoot = "/shepherd-tests"

    /// `connectString` with `chroot` appended (ZooKeeper's `host:port,host:port/chroot` form).
    public func connectString(chroot: String) -> String {
        connectString + chroot
    }

    /// Whether ``stop()``, ``start()``, ``restart()`` and ``kill()`` are allowed.
    public var allowsFaultInjection: Bool { target.allowsFaultInjection && apache != nil }

    /// Stops the shared server. It affects every test running concurrently in this process:
    /// a fault test should prefer its own server (``TestServerFixture/privateApacheServer(_:)``).
    public func stop() async throws { try await faultServer("stop").stop() }
    public func start() async throws { try await faultServer("start").start() }
    public func restart() async throws { try await faultServer("restart").restart() }
    public func kill() async throws { try await faultServer("kill").kill() }

    /// The server's recent log when this process runs it, for failure messages.
    public func logTail(maxBytes: Int = 16_384) -> String? { apache?.logTail(maxBytes: maxBytes) }

    private func faultServer(_ operation: String) throws -> ApacheZooKeeper {
        guard target.allowsFaultInjection, let apache else {
            throw TestSupportError("\(operation) is not supported on \(target)")
        }
        return apache
    }
}

/// The integration-test fixture: one server per test process, started on first use and reused;
/// tests isolate themselves with ``TestServerHandle/uniqueChroot(_:)``.
///
/// The shared Apache server is killed when the test process exits, however it exits (see the
/// lifeline reaper on ``ApacheZooKeeper``); its directory is removed by that reaper too.
public final class TestServerFixture: Sendable {
    private init() {}

    /// True when the selected target can run here (external targets are assumed reachable).
    public static var isAvailable: Bool { unavailableReason == nil }

    /// Why the integration tests must skip, or nil when they can run. Use it in a trait:
    /// `@Suite(.enabled(if: TestServerFixture.isAvailable, "…"))` or print it when skipping.
    public static var unavailableReason: String? {
        do {
            switch try TestServerTarget.current {
            case .external, .embedded: return nil
            case .apacheStandalone:
                return ApacheZooKeeper.isInstalled ? nil : ApacheZooKeeper.notInstalledMessage
            }
        } catch {
            return "\(error)"
        }
    }

    private static let sharedState = Mutex<Task<TestServerHandle, any Error>?>(nil)

    /// The process-wide server handle, starting the server on first call. Concurrent first calls
    /// share one start; a failed start is retried by the next call.
    public static func shared() async throws -> TestServerHandle {
        let task = sharedState.withLock { state in
            if let state { return state }
            let task = Task<TestServerHandle, any Error> { try await makeHandle() }
            state = task
            return task
        }
        do {
            return try await task.value
        } catch {
            sharedState.withLock { state in
                if state == task { state = nil }
            }
            throw error
        }
    }

    /// A started Apache server of the test's own, for fault tests that stop, kill or reconfigure
    /// the server. Call ``ApacheZooKeeper/cleanup()`` when done (deinit does it too).
    public static func privateApacheServer(
        _ configuration: ApacheZooKeeper.Configuration = ApacheZooKeeper.Configuration()
    ) async throws -> ApacheZooKeeper {
        let server = try ApacheZooKeeper(configuration: configuration)
        do {
            try await server.start()
        } catch {
            server.cleanup()
            throw error
        }
        return server
    }

    private static func makeHandle() async throws -> TestServerHandle {
        let target = try TestServerTarget.current
        switch target {
        case .external(let connectString):
            return TestServerHandle(target: target, connectString: connectString, apache: nil)
        case .embedded:
            let server = try await EmbeddedServer.start()
            await server.setContainerCheckInterval(.milliseconds(100))
            return TestServerHandle(target: target, connectString: server.connectString, apache: nil, embedded: server)
        case .apacheStandalone:
            // Shared by every test: fsync off keeps concurrent tests fast on slow disks; the
            // process-crash durability tests that need fsync run a private server.
            let server = try ApacheZooKeeper(configuration: .init(
                extraConfig: ["forceSync=no", "extendedTypesEnabled=true"],
                javaOptions: ["-Dzookeeper.extendedTypesEnabled=true", "-Dznode.container.checkIntervalMs=100"]))
            do {
                try await server.start()
            } catch {
                server.cleanup()
                throw error
            }
            return TestServerHandle(target: target, connectString: server.connectString, apache: server)
        }
    }
}
