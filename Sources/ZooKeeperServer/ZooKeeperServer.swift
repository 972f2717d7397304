import Foundation
import Synchronization
import ZooKeeperHTTP
import ZooKeeperPOSIX
import ZooKeeperProtocol

/// A ZooKeeper-compatible server: Apache ZooKeeper 3.8's protocol and semantics, durable through a
/// transaction log with group commit and snapshots; standalone, or a member of an ensemble when the
/// configuration lists more than one voting server (``ServerConfiguration/quorum``).
///
/// A thin composition root: recovery, then a network thread (``NetworkLoop``) feeding a request
/// pipeline thread (``RequestPipeline``), which owns the database, the sessions and the log.
public final class ZooKeeperServer: Sendable {
    public let configuration: ServerConfiguration
    let log: ServerLog
    private let running = Mutex<Running?>(nil)

    struct Running: Sendable {
        let network: NetworkLoop
        let pipeline: RequestPipeline
        /// Set on an ensemble member.
        var peer: QuorumPeer? = nil
        /// The admin and metrics HTTP servers, when configured.
        var http = HTTPEndpoints()
    }

    public init(configuration: ServerConfiguration, log: ServerLog = .silent) {
        self.configuration = configuration
        self.log = log
    }

    /// Recovers the database from disk (if configured), binds the client port and starts serving.
    /// - Throws: on an unreadable data directory or a port that cannot be bound.
    public func start() async throws {
        if configuration.isEnsemble {
            let member = try startMember()
            running.withLock { $0 = member }
            try await startHTTP(member.pipeline)
            return
        }
        let wallNow = wallClockMilliseconds()
        let metrics = ServerMetrics()
        let recovered = try ServerRecovery.recover(configuration: configuration, log: log, metrics: metrics)
        var sessions = SessionTracker(tickTime: configuration.tickTime, now: wallNow)
        for (id, timeout) in recovered.database.sessions { sessions.add(id: id, timeout: timeout, now: 0) }
        let listener: Socket
        do {
            listener = try Socket.listen(host: configuration.clientPortAddress, port: configuration.clientPort)
        } catch {
            recovered.persistence?.close()
            throw error
        }
        let state = PipelineState(
            configuration: configuration, database: recovered.database, sessions: sessions,
            passwords: SessionPasswords(secret: recovered.secret), persistence: recovered.persistence, log: log, metrics: metrics)
        let pipeline = try RequestPipeline(state: state)
        let network = try NetworkLoop(
            listener: listener,
            limits: .init(maxFrameLength: configuration.maxBuffer, maxClientConnections: configuration.maxClientConnections)
        ) { events in pipeline.submit(events) }
        state.network = network
        running.withLock { $0 = Running(network: network, pipeline: pipeline) }
        pipeline.start()
        network.start()
        log.info("binding to port \(configuration.clientPortAddress):\(network.port)")
        try await startHTTP(pipeline)
    }

    /// Starts the configured HTTP endpoints; if one cannot bind, the whole server stops and the error is thrown.
    private func startHTTP(_ pipeline: RequestPipeline) async throws {
        do {
            let endpoints = try await startHTTPEndpoints(pipeline)
            running.withLock { $0?.http = endpoints }
        } catch {
            await stop()
            throw error
        }
    }

    /// The admin server's bound port, while it runs (useful with `admin.serverPort=0`).
    public var adminPort: Int? { running.withLock { $0?.http.admin?.port } }

    /// The Prometheus endpoint's bound port, while it runs (useful with `metricsProvider.httpPort=0`).
    public var metricsPort: Int? { running.withLock { $0?.http.metrics?.port } }

    /// The bound client port (useful with `clientPort = 0`).
    public var port: Int { running.withLock { $0?.network.port ?? configuration.clientPort } }

    /// `host:port` for clients.
    public var connectString: String {
        let host = configuration.clientPortAddress
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Stops serving: connections close, the log is flushed and closed. Sessions survive on disk.
    public func stop() async {
        guard let running = running.withLock({ state -> Running? in
            defer { state = nil }
            return state
        }) else { return }
        await running.http.stop()
        // A member's role goes first: clients are dropped as Apache drops them when its server shuts down.
        await running.peer?.stop()
        await running.network.stop()
        await running.pipeline.stop()
        log.info("shut down")
    }

    /// Starts, then serves until the calling task is cancelled; then stops cleanly.
    public func run() async throws {
        try await start()
        // An AsyncStream's iteration ends when the task is cancelled; nothing is ever yielded.
        let (parked, continuation) = AsyncStream.makeStream(of: Never.self)
        for await _ in parked {}
        withExtendedLifetime(continuation) {}
        await stop()
    }

    /// The ensemble role of a running member (nil standalone or stopped), for tests' introspection.
    var peer: QuorumPeer? { running.withLock { $0?.peer } }

    /// Runs a job on the pipeline thread (fault injection, introspection); false if not running.
    @discardableResult
    func onPipeline(_ job: @escaping @Sendable (PipelineState) -> Void) -> Bool {
        guard let pipeline = running.withLock({ $0?.pipeline }) else { return false }
        pipeline.perform(job)
        return true
    }
}
