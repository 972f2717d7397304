import Foundation
import ZooKeeperProtocol

/// A ZooKeeper-compatible server running inside this process: on a free loopback port, with a
/// temporary (or given) data directory. What tests, demos and a laptop use instead of a JVM.
///
/// ```swift
/// try await withEmbeddedServer { server in   // stopped before this returns, however the body ends
///     try await withZooKeeperClient(.init(connectionString: server.connectString)) { client in
///         try await client.create("/hello")
///     }
/// }
/// ```
///
/// ``start(configuration:inMemory:log:)`` returns a server to stop yourself: `await server.stop()` on
/// every path (a `defer { Task { await server.stop() } }` returns before the server has stopped).
///
/// It also injects faults deterministically, which Curator's client-side KillSession cannot: expire a
/// session server-side, drop a connection, pause, delay replies, lose a reply after applying its request,
/// partition one client away.
public final class EmbeddedServer: Sendable {
    public let server: ZooKeeperServer
    /// The data directory, and whether it is a temporary one removed by ``stop()``.
    public let dataDirectory: String?
    private let ownsDirectory: Bool

    private init(server: ZooKeeperServer, dataDirectory: String?, ownsDirectory: Bool) {
        self.server = server
        self.dataDirectory = dataDirectory
        self.ownsDirectory = ownsDirectory
    }

    /// Starts a server. By default: 127.0.0.1, a free port, a new temporary data directory, durable.
    /// - Parameters:
    ///   - configuration: settings; `clientPort` 0 and `dataDirectory` nil are filled in.
    ///   - inMemory: keep no files at all (faster; nothing survives a restart).
    public static func start(
        configuration: ServerConfiguration = EmbeddedServer.defaultConfiguration, inMemory: Bool = false,
        log: ServerLog = .silent
    ) async throws -> EmbeddedServer {
        var configuration = configuration
        var owns = false
        if !inMemory && configuration.dataDirectory == nil {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("shepherd-zk-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            configuration.dataDirectory = directory
            owns = true
        }
        let server = ZooKeeperServer(configuration: configuration, log: log)
        do {
            try await server.start()
        } catch {
            if owns, let directory = configuration.dataDirectory { try? FileManager.default.removeItem(atPath: directory) }
            throw error
        }
        return EmbeddedServer(server: server, dataDirectory: configuration.dataDirectory, ownsDirectory: owns)
    }

    /// Port 0, every four-letter word allowed, TTL nodes on: what tests want.
    public static var defaultConfiguration: ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.clientPort = 0
        configuration.fourLetterWordWhitelist = ["*"]
        configuration.extendedTypesEnabled = true
        configuration.maxClientConnections = 0
        configuration.preAllocSizeKB = 1024  // many short-lived servers: keep their logs small
        return configuration
    }

    public var connectString: String { server.connectString }
    public var port: Int { server.port }
    /// The admin server's port when ``ServerConfiguration/admin`` enables it.
    public var adminPort: Int? { server.adminPort }
    /// The Prometheus endpoint's port when ``ServerConfiguration/metricsProvider`` enables it.
    public var metricsPort: Int? { server.metricsPort }

    /// Stops the server and removes its temporary directory.
    public func stop() async {
        await server.stop()
        if ownsDirectory, let dataDirectory { try? FileManager.default.removeItem(atPath: dataDirectory) }
    }

    // MARK: - Fault injection

    /// Runs `job` on the pipeline thread; `fallback` if the server is not running.
    func onPipeline<T: Sendable>(
        fallback: T, _ job: @escaping @Sendable (PipelineState) -> T
    ) async -> T {
        await withCheckedContinuation { continuation in
            let submitted = server.onPipeline { state in continuation.resume(returning: job(state)) }
            if !submitted { continuation.resume(returning: fallback) }
        }
    }

    private func onPipeline(_ job: @escaping @Sendable (PipelineState) -> Void) async {
        await onPipeline(fallback: ()) { state in job(state) }
    }

    /// Expires a session now, server-side: its ephemerals go, watchers fire, its connection closes.
    public func expireSession(_ sessionID: Int64) async {
        await onPipeline { state in
            guard state.sessions.sessions[sessionID] != nil else { return }
            state.endSession(sessionID, closingConnection: true)
            _ = state.releaseBatch()
        }
    }

    /// Drops a session's connection (the session lives on; the client reconnects).
    public func dropConnection(ofSession sessionID: Int64) async {
        await onPipeline { state in
            if let connection = state.sessions.sessions[sessionID]?.connectionID { state.abort(connection) }
            _ = state.releaseBatch()
        }
    }

    /// Stops answering anything (requests, pings, handshakes queue up) for `duration`.
    public func pause(for duration: Duration) async {
        await onPipeline { state in
            state.faults.pausedUntil = state.monotonicNow + duration.milliseconds
        }
    }

    /// Holds every reply (and notification) back by `delay`; nil restores normal service.
    public func delayReplies(by delay: Duration?) async {
        await onPipeline { state in
            state.faults.replyDelay = delay.map(\.milliseconds)
        }
    }

    /// Applies the next request that matches (opcode, path), then drops its reply and the connection:
    /// the client sees connection loss for a request that did happen (why Curator has protected mode).
    public func loseNextReply(where matches: @escaping @Sendable (OpCode, String?) -> Bool) async {
        await onPipeline { state in state.faults.loseNextReply = matches }
    }

    /// Answers every request that matches (opcode, path) with `error`, without applying it, until called again
    /// with `nil`: a server that keeps refusing (e.g. SESSIONMOVED, which clients retry), to prove that a retry
    /// loop stays within its policy.
    public func refuseRequests(with error: ZooKeeperErrorCode, where matches: (@Sendable (OpCode, String?) -> Bool)?) async {
        await onPipeline { state in
            guard let matches else {
                state.faults.refuse = nil
                return
            }
            state.faults.refuse = { @Sendable opCode, path in matches(opCode, path) ? error : nil }
        }
    }

    /// Partitions a session's client away: drops its connection and leaves its reconnect handshakes
    /// unanswered (a black hole, not a refusal) until healed.
    public func partition(session sessionID: Int64) async {
        await onPipeline { state in
            state.faults.partitioned.insert(sessionID)
            if let connection = state.sessions.sessions[sessionID]?.connectionID { state.abort(connection) }
            _ = state.releaseBatch()
        }
    }

    /// Ends a partition made with ``partition(session:)``.
    public func heal(session sessionID: Int64) async {
        await onPipeline { state in _ = state.faults.partitioned.remove(sessionID) }
    }

    /// How often containers and TTL nodes are checked (Apache: 60 s).
    public func setContainerCheckInterval(_ interval: Duration) async {
        await onPipeline { state in
            state.faults.containerCheckInterval = Int(interval.milliseconds)
        }
    }

    /// Ids of the sessions the server currently knows.
    public func sessionIDs() async -> [Int64] {
        await onPipeline(fallback: []) { state in state.sessions.sessions.keys.sorted() }
    }
}

/// Starts an ``EmbeddedServer``, runs `body` with it, and stops it (removing a temporary data directory)
/// before returning — whether `body` returns or throws. The scoped form of
/// ``EmbeddedServer/start(configuration:inMemory:log:)`` + ``EmbeddedServer/stop()``.
/// - Throws: what `body` throws, or the error that kept the server from starting.
public func withEmbeddedServer<Result>(
    configuration: ServerConfiguration = EmbeddedServer.defaultConfiguration, inMemory: Bool = false,
    log: ServerLog = .silent,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (EmbeddedServer) async throws -> Result
) async throws -> Result {
    let server = try await EmbeddedServer.start(configuration: configuration, inMemory: inMemory, log: log)
    let result: Result
    do {
        result = try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
    return result
}
