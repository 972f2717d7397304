import Foundation
import Synchronization
import ZooKeeperPOSIX
import ZooKeeperProtocol

/// A ZooKeeper ensemble inside this process: voting members (three by default) and observers, each a
/// ``ZooKeeperServer`` on free loopback ports with its own data directory, electing a leader and replicating
/// with ZAB as `zk-server` members do. For tests of code that must survive a member going away — the
/// leader included — without Java or child processes.
///
/// ```swift
/// try await withEmbeddedEnsemble { ensemble in   // stopped (and its directories removed) however the body ends
///     let leader = try await ensemble.waitForLeader()
///     try await withZooKeeperClient(.init(connectionString: ensemble.connectString)) { client in
///         try await client.create("/job")
///         await ensemble.stop(member: leader)     // the others elect a new leader; the client moves on
///         _ = try await client.setData("/job", data: [1])  // may fail with connection loss while it moves: retry
///     }
/// }
/// ```
///
/// Each running member is an ``EmbeddedServer`` (``member(_:)``), with its client-side faults: pause it,
/// delay its replies, expire a session, drop or partition a client. A member stopped with
/// ``stop(member:)`` keeps its data directory and comes back from it with ``start(member:)``. Child
/// processes (so that SIGKILL and SIGSTOP are real) and cut links between members are what `zk-server`,
/// `docker/local-ensemble.sh` and the test support's fault proxies are for.
public final class EmbeddedEnsemble: Sendable {
    /// What a member is doing, as `srvr`'s `Mode:` line says it.
    public enum Role: String, Sendable {
        case leader, follower, observer
        /// Electing: not serving clients.
        case looking
        /// Cut off from the quorum with `readonlymode.enabled`: serving reads only.
        case readOnly = "read-only"
    }

    /// Every member's configuration, by server id (voting members 1…, then observers).
    public let configurations: [Int64: ServerConfiguration]
    /// The directory holding the members' data directories (nil: in memory), removed by ``stop()``.
    public let directory: String?
    private let logs: [Int64: ServerLog]
    private let members: Mutex<[Int64: EmbeddedServer]>

    private init(configurations: [Int64: ServerConfiguration], directory: String?, logs: [Int64: ServerLog]) {
        self.configurations = configurations
        self.directory = directory
        self.logs = logs
        self.members = Mutex([:])
    }

    /// Every member's id, voting members first.
    public var ids: [Int64] { configurations.keys.sorted() }

    /// Every member's client address, for a client that may use any of them.
    public var connectString: String { connectString(members: ids) }

    /// The client addresses of `members` only.
    public func connectString(members: [Int64]) -> String {
        members.compactMap { configurations[$0].map { "127.0.0.1:\($0.clientPort)" } }.joined(separator: ",")
    }

    /// The running member with this id (nil while stopped).
    public func member(_ id: Int64) -> EmbeddedServer? { members.withLock { $0[id] } }

    /// Settings for tests: 200 ms ticks (a dead leader is noticed and replaced within about a second),
    /// sessions up to 60 s, every four-letter word, TTL nodes, small log files.
    public static var defaultConfiguration: ServerConfiguration {
        var configuration = EmbeddedServer.defaultConfiguration
        configuration.tickTime = 200
        configuration.initLimit = 10
        configuration.syncLimit = 5
        configuration.maxSessionTimeout = 60_000
        return configuration
    }

    /// Starts an ensemble and returns once every member runs (a leader is elected shortly after:
    /// ``waitForLeader(within:)``).
    /// - Parameters:
    ///   - participants: voting members (1… ; a quorum is a majority of them).
    ///   - observers: non-voting members (the ids after the participants).
    ///   - configuration: the settings every member starts from; ports, ids and directories are filled in.
    ///   - inMemory: keep no files (faster; a restarted member comes back empty and is sent the tree).
    ///   - configure: adjusts one member's configuration (by id) before it starts.
    ///   - log: each member's log (by id); silent by default.
    public static func start(
        participants: Int = 3, observers: Int = 0, configuration: ServerConfiguration = EmbeddedEnsemble.defaultConfiguration,
        inMemory: Bool = false, configure: (@Sendable (Int64, inout ServerConfiguration) -> Void)? = nil,
        log: (@Sendable (Int64) -> ServerLog)? = nil
    ) async throws -> EmbeddedEnsemble {
        guard participants >= 1, observers >= 0 else {
            throw ServerStartError("an ensemble needs at least one voting member (participants: \(participants), observers: \(observers))")
        }
        var attempt = 0
        while true {
            attempt += 1
            let directory = inMemory ? nil : try Self.makeDirectory()
            let configurations = try Self.configurations(
                participants: participants, observers: observers, base: configuration, directory: directory, configure: configure)
            let logs = Dictionary(uniqueKeysWithValues: configurations.keys.map { ($0, log?($0) ?? .silent) })
            let ensemble = EmbeddedEnsemble(configurations: configurations, directory: directory, logs: logs)
            do {
                for id in ensemble.ids { try await ensemble.start(member: id) }
                return ensemble
            } catch is SocketError where attempt < 5 {
                // A port chosen free was taken before its member bound it: everything again, on new ports.
                await ensemble.stop()
            } catch {
                await ensemble.stop()
                throw error
            }
        }
    }

    /// Starts a member that is stopped (again from its data directory). Does nothing if it runs.
    public func start(member id: Int64) async throws {
        guard let configuration = configurations[id] else { throw ServerStartError("no member \(id) in this ensemble") }
        guard member(id) == nil else { return }
        let server = try await EmbeddedServer.start(configuration: configuration, inMemory: directory == nil, log: logs[id] ?? .silent)
        members.withLock { $0[id] = server }
    }

    /// Stops a member (its data directory stays for ``start(member:)``). The others carry on: they elect a
    /// new leader if it led, and serve as long as a quorum of voting members runs.
    public func stop(member id: Int64) async {
        let server = members.withLock { $0.removeValue(forKey: id) }
        await server?.stop()
    }

    /// What a member is doing; nil while it is stopped.
    public func role(of id: Int64) async -> Role? {
        guard let server = member(id) else { return nil }
        let mode = await server.onPipeline(fallback: nil) { state in state.member?.mode }
        return mode.flatMap(Role.init(rawValue:))
    }

    /// Waits until one running member leads and every other running member follows or observes (so
    /// each serves clients); returns the leader's id.
    public func waitForLeader(within timeout: Duration = .seconds(30)) async throws -> Int64 {
        let deadline = ContinuousClock.now + timeout
        while true {
            let running = members.withLock { Array($0.keys) }
            var roles: [Int64: Role] = [:]
            for id in running { roles[id] = await role(of: id) }
            let leaders = roles.filter { $0.value == .leader }.map(\.key)
            if leaders.count == 1, roles.count == running.count,
               roles.values.allSatisfy({ $0 == .leader || $0 == .follower || $0 == .observer }) {
                return leaders[0]
            }
            guard ContinuousClock.now < deadline else {
                throw ServerStartError("no settled leader within \(timeout): \(roles.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.rawValue)" })")
            }
            try await Task.sleep(for: .milliseconds(20))  // polling the members' state, not a synchronisation
        }
    }

    /// Stops every member and removes the data directories.
    public func stop() async {
        for id in ids { await stop(member: id) }
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }

    // MARK: Setup

    private static func makeDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shepherd-ensemble-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private static func configurations(
        participants: Int, observers: Int, base: ServerConfiguration, directory: String?,
        configure: (@Sendable (Int64, inout ServerConfiguration) -> Void)?
    ) throws -> [Int64: ServerConfiguration] {
        var servers: [QuorumServer] = []
        for id in Int64(1)...Int64(participants + observers) {
            servers.append(QuorumServer(
                id: id, host: "127.0.0.1", quorumPort: try FreePort.loopback(), electionPort: try FreePort.loopback(),
                type: id > participants ? .observer : .participant, clientPort: try FreePort.loopback()))
        }
        let quorum = try QuorumConfiguration(servers: servers)
        var configurations: [Int64: ServerConfiguration] = [:]
        for server in servers {
            var configuration = base
            configuration.quorum = quorum
            configuration.serverID = server.id
            configuration.clientPort = server.clientPort ?? 0
            configuration.clientPortAddress = "127.0.0.1"
            if let directory {
                let member = "\(directory)/member\(server.id)"
                try FileManager.default.createDirectory(atPath: member, withIntermediateDirectories: true)
                configuration.dataDirectory = member
            }
            configure?(server.id, &configuration)
            configurations[server.id] = configuration
        }
        return configurations
    }
}

/// Runs `body` with a started ``EmbeddedEnsemble`` and stops it (removing its directories) however
/// `body` ends.
public func withEmbeddedEnsemble<Result>(
    participants: Int = 3, observers: Int = 0, configuration: ServerConfiguration = EmbeddedEnsemble.defaultConfiguration,
    inMemory: Bool = false, isolation: isolated (any Actor)? = #isolation, _ body: (EmbeddedEnsemble) async throws -> Result
) async throws -> Result {
    let ensemble = try await EmbeddedEnsemble.start(
        participants: participants, observers: observers, configuration: configuration, inMemory: inMemory)
    let result: Result
    do {
        result = try await body(ensemble)
    } catch {
        await ensemble.stop()
        throw error
    }
    await ensemble.stop()
    return result
}
