@_exported public import ZooKeeperProtocol
import Synchronization
import ZooKeeperPOSIX

/// A ZooKeeper client: one session, pipelined requests, watches, reconnection across the ensemble.
///
/// ```swift
/// try await withZooKeeperClient(.init(connectionString: "127.0.0.1:2181/app")) { zk in
///     _ = try await zk.create("/config", data: Array("v1".utf8))
///     let (data, stat) = try await zk.getData("/config")
/// }
/// ```
///
/// Notable behaviours:
/// - **Ordering**: each request gets its xid synchronously when called, so calls made one after another
///   reach the server in call order; replies come back in the same order (pipelining: any number may
///   be outstanding on the one connection).
/// - **Connection loss** fails the requests in flight with `.connectionLoss`; their outcome on the
///   server is unknown. The client moves to the next server and resumes the same session, re-sending
///   credentials and re-registering every watch.
/// - **Cancellation** of a caller's task stops its wait; a request already sent may still be applied.
/// - **Session end** (`.lost` in ``connectionStates()``) is terminal: create a new client for a new session.
public final class ZooKeeperClient: Sendable {
    let core: ClientCore
    private let started = Mutex(false)

    /// The configuration this client was created with.
    public var configuration: ZooKeeperConfiguration { core.configuration }

    /// Creates a client. Nothing happens on the network until ``start()``, ``run()`` or ``connect(_:)``.
    /// - Throws: ``ZooKeeperError`` if the configuration names no server or the wake-up pipe cannot be made.
    /// A client released without ``close()`` still ends its session promptly (closeSession is sent if
    /// connected) and its I/O thread exits: its ephemeral nodes, locks included, do not outlive it.
    deinit {
        core.closeDetached()
    }

    public init(configuration: ZooKeeperConfiguration) throws {
        guard !configuration.servers.isEmpty else {
            throw ZooKeeperError(.badArguments, message: "no servers configured")
        }
        do { core = try ClientCore(configuration: configuration) } catch {
            throw ZooKeeperError(.systemError, message: "cannot create the client's wake-up pipe", underlying: error)
        }
    }

    /// Creates a client, starts it and waits for the first session.
    /// - Throws: ``ZooKeeperError`` `.connectionLoss` if no session was established within
    ///   ``ZooKeeperConfiguration/initialConnectionTimeout``, or the session's terminal error.
    public static func connect(_ configuration: ZooKeeperConfiguration) async throws -> ZooKeeperClient {
        let client = try ZooKeeperClient(configuration: configuration)
        client.start()
        do {
            try await client.waitUntilConnected(timeout: configuration.initialConnectionTimeout)
        } catch {
            await client.close()
            throw error
        }
        return client
    }

    /// Starts the client's I/O thread (idempotent). Prefer ``connect(_:)`` or ``withZooKeeperClient(_:isolation:_:)``.
    public func start() {
        let first = started.withLock { started in
            defer { started = true }
            return !started
        }
        if first { ConnectionDriver.start(core) }
    }

    /// Starts the client if needed and returns when its session ends.
    ///
    /// Cancelling the calling task closes the client.
    /// - Throws: the terminal ``ZooKeeperError`` (`.sessionExpired`, `.authFailed`, …) unless the
    ///   client was closed normally.
    public func run() async throws {
        start()
        await withTaskCancellationHandler {
            await core.waitForDriver()
        } onCancel: {
            // Closes the session (closeSession, then the I/O thread ends): its ephemerals go now.
            core.closeDetached()
        }
        if case let .terminated(error, reason) = core.state.withLock({ $0.lifecycle }), reason != .closed {
            throw error
        }
    }

    /// Closes the session (sends `closeSession`, so ephemerals go at once) and stops the I/O thread.
    ///
    /// Outstanding requests fail with `.clientClosed`. Safe to call more than once.
    public func close() async {
        let connected = core.state.withLock { state -> Bool in
            guard case .running = state.lifecycle else { return false }
            state.lifecycle = .closing
            return state.connectionState.isConnected
        }
        if connected {
            // Bounded: a dead server must not make close() hang.
            let timeout = min(core.state.withLock { $0.session?.timeout ?? .seconds(2) }, .seconds(5))
            _ = try? await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await self.send(.closeSession, nil, path: nil) }
                group.addTask { try await Task.sleep(for: timeout) }
                defer { group.cancelAll() }
                try await group.next()
            }
        }
        core.perform(core.terminate(ZooKeeperError(.clientClosed, message: "the client was closed"), reason: .closed))
        let wasStarted = started.withLock { $0 }
        if wasStarted { await core.waitForDriver() }
    }

    /// The current connection state.
    public var connectionState: ConnectionState { core.state.withLock { $0.connectionState } }

    /// The current state, then every change, until the session ends (the stream then finishes).
    /// Each call returns a new, independent subscription.
    public func connectionStates() -> AsyncStream<ConnectionState> { core.subscribe() }

    /// The session, once established: save it to resume the session from another client or process.
    public var session: SessionInfo? {
        core.state.withLock { state in
            state.session.map { session in
                var session = session
                session.lastZxidSeen = state.lastZxidSeen
                return session
            }
        }
    }

    /// The highest zxid seen in a reply header; sent on reconnect so no server can take the client back in time.
    public var lastZxidSeen: Int64 { core.state.withLock { $0.lastZxidSeen } }

    /// The round trip of the last answered ping (the client pings only when idle).
    public var lastPingRoundTrip: Duration? { core.state.withLock { $0.lastPingRoundTrip } }

    /// The server's last processed zxid, as reported in the last ping reply: compare with
    /// ``lastZxidSeen`` to see how far behind a server is.
    public var serverLastZxid: Int64? { core.state.withLock { $0.serverZxid } }

    /// The server the client is connected to, if any.
    public var currentServer: ServerAddress? { core.state.withLock { $0.currentServer } }

    /// Waits until the client is connected (`.connected`, `.reconnected` or `.readOnly`).
    /// - Throws: ``ZooKeeperError`` `.connectionLoss` on timeout, or the terminal error if the session ends.
    public func waitUntilConnected(timeout: Duration) async throws {
        let states = connectionStates()
        let outcome: Result<Void, ZooKeeperError>? = try await withThrowingTaskGroup(of: Result<Void, ZooKeeperError>?.self) { group in
            group.addTask {
                for await state in states {
                    if state.isConnected { return .success(()) }
                    if case .lost = state { return .failure(self.terminalError ?? ZooKeeperError(.clientClosed)) }
                }
                return .failure(self.terminalError ?? ZooKeeperError(.clientClosed))
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        switch outcome {
        case .success: return
        case let .failure(error): throw error
        case nil:
            let last = core.state.withLock { $0.lastConnectionError }
            throw ZooKeeperError(.connectionLoss, message: "not connected within \(timeout)"
                + (last.map { "; last failure: \($0)" } ?? ""), underlying: last)
        }
    }

    var terminalError: ZooKeeperError? {
        core.state.withLock { state in
            if case let .terminated(error, _) = state.lifecycle { return error }
            return nil
        }
    }
}

/// Runs `body` with a connected client, closing it afterwards (even when `body` throws).
///
/// - Throws: what `body` throws, or ``ZooKeeperError`` if no session could be established.
public func withZooKeeperClient<Result: Sendable>(
    _ configuration: ZooKeeperConfiguration,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (ZooKeeperClient) async throws -> Result
) async throws -> Result {
    let client = try await ZooKeeperClient.connect(configuration)
    do {
        let result = try await body(client)
        await client.close()
        return result
    } catch {
        await client.close()
        throw error
    }
}
