import Foundation
import Synchronization
import ZooKeeperClient
import ZooKeeperServer
import ZooKeeperTestSupport

/// A server (or ensemble) the matrix runs scenarios against, and the faults it can inject.
protocol MatrixTarget: AnyObject, Sendable {
    var name: String { get }
    var connectString: String { get }
    func supports(_ fault: Fault) -> Bool
    /// Injects `fault`; `victim` is the client the fault is aimed at (session expiry, its server killed).
    func inject(_ fault: Fault, victim: ZooKeeperClient) async throws
    /// Restores the target after a scenario (restarts killed nodes, waits for a healthy ensemble).
    func heal() async throws
    func shutdown() async
}

/// Expires `victim`'s session the way an Apache server allows from outside: a second connection takes the
/// session over (same id and password), which closes the victim's connection, then closes the session.
func expireByTakeover(_ victim: ZooKeeperClient, connectString: String) async throws {
    guard let session = victim.session else { throw MatrixError("victim has no session") }
    let hosts = try ZooKeeperConfiguration(connectionString: connectString).servers
    guard let server = hosts.first else { throw MatrixError("no server in \(connectString)") }
    // A raw takeover that pipelines closeSession behind its handshake (and repeats if the victim's own
    // reconnect wins the race): a client that connects and then closes can lose that race.
    try SessionTakeover.expire(session, host: server.host, port: server.port)
}

/// Shepherd's own server, in this process.
final class EmbeddedTarget: MatrixTarget {
    let name = "embedded"
    let server: EmbeddedServer
    var connectString: String { server.connectString }

    init() async throws { server = try await EmbeddedServer.start(inMemory: true) }

    func supports(_ fault: Fault) -> Bool { fault == .none || fault == .sessionExpired || fault == .partition }

    func inject(_ fault: Fault, victim: ZooKeeperClient) async throws {
        guard fault == .sessionExpired, let id = victim.session?.id else { return }
        await server.expireSession(id)
    }

    func heal() async throws {}
    func shutdown() async { await server.stop() }
}

/// Servers someone else runs (e.g. the docker compose ensemble): only faults that need no process control.
final class ExternalTarget: MatrixTarget {
    let name = "external"
    let connectString: String

    init(connectString: String) throws {
        guard !connectString.isEmpty else { throw MatrixError("external target: pass --servers or set SHEPHERD_TEST_SERVERS") }
        self.connectString = connectString
    }

    func supports(_ fault: Fault) -> Bool { fault == .none || fault == .sessionExpired || fault == .partition }

    func inject(_ fault: Fault, victim: ZooKeeperClient) async throws {
        guard fault == .sessionExpired else { return }
        try await expireByTakeover(victim, connectString: connectString)
    }

    func heal() async throws {}
    func shutdown() async {}
}

/// One Apache ZooKeeper 3.8 standalone from the Debian jars.
final class ApacheStandaloneTarget: MatrixTarget {
    let name = "apache"
    let server: ApacheZooKeeper
    var connectString: String { server.connectString }

    init() async throws {
        server = try await TestServerFixture.privateApacheServer(.init(extraConfig: ["forceSync=no"]))
    }

    func supports(_ fault: Fault) -> Bool { fault == .none || fault == .sessionExpired || fault == .partition }

    func inject(_ fault: Fault, victim: ZooKeeperClient) async throws {
        guard fault == .sessionExpired else { return }
        try await expireByTakeover(victim, connectString: connectString)
    }

    func heal() async throws {}
    func shutdown() async {
        try? await server.stop()
        server.cleanup()
    }
}

/// A 3-node Apache ZooKeeper 3.8 ensemble run by docker/local-ensemble.sh.
final class EnsembleTarget: MatrixTarget {
    let name = "ensemble"
    let script: String
    let stateDirectory: String
    let connectString: String
    private let killed = Mutex<Set<String>>([])
    private let lifeline: Lifeline

    init(script: String) async throws {
        self.script = script
        stateDirectory = NSTemporaryDirectory() + "shepherd-matrix-ensemble-\(getpid())"
        // If this process dies (Ctrl-C, crash, SIGKILL), the lifeline's reader stops the ensemble.
        lifeline = try Lifeline(command: "SHEPHERD_ENSEMBLE_DIR=\"$1\" \"$0\" stop; rm -rf \"$1\"",
                                arguments: [script, stateDirectory])
        connectString = lastLine(try await runCommand([script, "start"], environment: ["SHEPHERD_ENSEMBLE_DIR": stateDirectory]))
    }

    private func ensemble(_ arguments: String...) async throws -> String {
        lastLine(try await runCommand([script] + arguments, environment: ["SHEPHERD_ENSEMBLE_DIR": stateDirectory]))
    }

    func supports(_ fault: Fault) -> Bool { true }

    func inject(_ fault: Fault, victim: ZooKeeperClient) async throws {
        switch fault {
        case .none, .partition: return  // a partition is the scenario's proxies' doing, not the ensemble's
        case .sessionExpired: try await expireByTakeover(victim, connectString: connectString)
        case .leaderKilled:
            let node = try await ensemble("leader")
            _ = try await ensemble("kill", node)
            killed.withLock { _ = $0.insert(node) }
        case .followerRestarted:
            let node = try await ensemble("follower")
            _ = try await ensemble("kill", node)
            try await Task.sleep(for: .seconds(1))
            _ = try await ensemble("start-node", node)
        case .clientServerKilled:
            guard let port = victim.currentServer?.port else { throw MatrixError("victim is not connected") }
            let node = try await ensemble("node-of", String(port))
            _ = try await ensemble("kill", node)
            killed.withLock { _ = $0.insert(node) }
        }
    }

    func heal() async throws {
        for node in killed.withLock({ nodes in defer { nodes = [] }; return nodes }) {
            _ = try await ensemble("start-node", node)
        }
        _ = try await ensemble("wait")
    }

    func shutdown() async {
        _ = try? await ensemble("stop")
        try? FileManager.default.removeItem(atPath: stateDirectory)
        lifeline.release()
    }
}

/// A `/bin/sh` in a session of its own, blocked reading a pipe whose only write end this process holds
/// (close-on-exec, so no child inherits it). When this process exits, however it exits, the read hits
/// EOF and the shell runs `command` (its `$0`, `$1`, … are `arguments`).
final class Lifeline: Sendable {
    private let writeEnd: Int32

    init(command: String, arguments: [String]) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw MatrixError("pipe failed") }
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["/bin/sh", "-c", "read -r _ignored; " + command] + arguments
        process.standardInput = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        close(fds[0])
        writeEnd = fds[1]
    }

    /// Fires the lifeline now (runs the command; harmless after a clean shutdown).
    func release() { close(writeEnd) }
}
