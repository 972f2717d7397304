import Foundation
import Synchronization
public import ZooKeeperClient

/// A node that stays in place through deletions, reconnections and session loss: Curator's
/// `PersistentNode` (and its deprecated `PersistentEphemeralNode`).
///
/// ```swift
/// let node = try PersistentNode(client: zk, path: "/workers/host-a", mode: .ephemeral, data: Array("up".utf8))
/// try await node.start()
/// try await node.waitForInitialCreate(timeout: .seconds(10))   // throws PersistentNodeError.timedOut
/// try await node.setData(Array("busy".utf8))   // stored for re-creation and written now
/// await node.close()                            // deletes the node
/// ```
///
/// **Layout**: the node at `path` in the given mode (EPHEMERAL, EPHEMERAL_SEQUENTIAL, PERSISTENT,
/// PERSISTENT_SEQUENTIAL, or a TTL mode), missing parents created as CONTAINERs. Protected (`protected: true`,
/// always for sequential modes) it is `<parent>/_c_<uuid>-<name>[seq]`: Curator's `withProtection()` layout.
///
/// **Algorithm** (one driver task, one event at a time):
/// 1. No node of ours → create it (protected create adopts a node whose reply was lost, so no ghost is left;
///    an unprotected fixed path that exists already is adopted if it is ours: persistent, or ephemeral owned
///    by our current session — then its data is rewritten).
/// 2. `exists`-watch our node. The watch firing, a `.reconnected`, or a new client → back to 1 after checking
///    the node: still there and ours → keep it (never a second node while ours exists from this session);
///    gone, or an ephemeral of another session → create again.
/// 3. An ephemeral at an unprotected fixed path owned by *another* session is left alone: we wait (watch)
///    until it goes, then create ours.
///
/// **Connection states**:
/// - `.suspended`, `.presumedExpired`: nothing is done (requests wait); the node may be gone when the
///   connection comes back, which step 2 handles.
/// - `.reconnected`: the node is checked and recreated if missing.
/// - `.lost`: our client is terminal. With a `reconnect` factory a new client is made, the node is recreated
///   through it (a new session, so a new ephemeral); without one, call ``replaceClient(_:)``, or the node stays
///   gone.
///
/// Notable behaviours:
/// - ``actualPath`` changes for sequential modes each time the node is recreated.
/// - ``setData(_:)`` may be called at any time, before the first create too: the data is kept for every
///   re-creation (Curator throws before the initial create).
/// - ``close()`` deletes the node (guaranteed delete) and stops; it does not close the client.
/// - A ``LongLivedRecipe``: ``withStarted(_:)`` scopes ``start()`` and ``close()``.
public final class PersistentNode: LongLivedRecipe {
    /// Where the node lives (for protected or sequential modes, the parent and name prefix).
    public let path: ZNodePath
    public let mode: CreateMode
    /// Whether the node's name carries Curator's protected prefix (always for sequential modes).
    public let isProtected: Bool
    public let ttl: Duration?
    public let retryPolicy: RetryPolicy
    let makeClient: (@Sendable () async throws -> ZooKeeperClient)?
    let creator: UUID

    enum Event: Sendable {
        case check
        case watchFired(UInt64)
        case connection(ConnectionState, clientID: ObjectIdentifier)
        case clientReplaced
    }

    struct Node: Sendable, Hashable {
        var path: String
        var ephemeralOwner: Int64
    }

    struct State {
        var client: ZooKeeperClient
        var data: [UInt8]
        /// `data` may not be on the node yet (a create raced `setData`, or its write failed).
        var pendingWrite = false
        var node: Node?
        var lifecycle = RecipeLifecycle()
        var started: Bool { lifecycle.started }
        var closed: Bool { lifecycle.closed }
        var generation: UInt64 = 0
        var subscribers = Subscribers<String>()
        var driver: Task<Void, Never>?
        var monitor: Task<Void, Never>?
        var forwarder: Task<Void, Never>?
        var retry: Task<Void, Never>?
    }

    let state: Mutex<State>
    let events: AsyncStream<Event>
    let eventSink: AsyncStream<Event>.Continuation
    private let closer = CloseOnce()

    /// - Parameters:
    ///   - path: the node's path; for protected or sequential modes, the parent plus the name prefix.
    ///   - mode: any mode but `.container`; TTL modes need `ttl`.
    ///   - protected: use Curator's protected name (forced for sequential modes: without it a create whose
    ///     reply was lost would leave a second node behind).
    ///   - reconnect: makes a new client after the session is lost; `nil` leaves that to ``replaceClient(_:)``.
    /// - Throws: ``PersistentNodeError/invalidConfiguration(_:)`` for a container mode, a TTL mode without a
    ///   positive `ttl`, a `ttl` with a non-TTL mode, or the root path.
    public init(
        client: ZooKeeperClient, path: ZNodePath, mode: CreateMode = .ephemeral, data: [UInt8] = [],
        protected: Bool = false, ttl: Duration? = nil, retryPolicy: RetryPolicy = .standard,
        reconnect: (@Sendable () async throws -> ZooKeeperClient)? = nil
    ) throws {
        guard !path.isRoot, path.parent != nil else { throw PersistentNodeError.invalidConfiguration("the root cannot be a persistent node") }
        guard !mode.isContainer else {
            throw PersistentNodeError.invalidConfiguration("a container node is removed by the server when empty; use .persistent")
        }
        if mode.isTTL {
            guard let ttl, ttl > .zero else { throw PersistentNodeError.invalidConfiguration("\(mode) needs a positive ttl") }
        } else if ttl != nil {
            throw PersistentNodeError.invalidConfiguration("ttl is only for TTL modes, not \(mode)")
        }
        self.path = path
        self.mode = mode
        self.isProtected = protected || mode.isSequential
        self.ttl = ttl
        self.retryPolicy = retryPolicy
        self.makeClient = reconnect
        self.creator = UUID()
        state = Mutex(State(client: client, data: data))
        (events, eventSink) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
    }

    deinit {
        state.withLock { state in
            for task in [state.driver, state.monitor, state.forwarder, state.retry] { task?.cancel() }
        }
    }

    /// The client in use now (a new one after a session loss and reconnect).
    public var client: ZooKeeperClient { state.withLock { $0.client } }

    /// Our node's path while it exists as far as we know; `nil` before the first create and after ``close()``.
    public var actualPath: String? { state.withLock { $0.node?.path } }

    /// The data the node has (or will have when recreated).
    public var data: [UInt8] { state.withLock { $0.data } }

    /// Starts creating and keeping the node (returns at once; ``waitForInitialCreate(timeout:)`` waits for the
    /// node, ``createdPaths()`` reports each creation).
    /// - Throws: ``RecipeLifecycleError/alreadyStarted`` on a second call, ``RecipeLifecycleError/closed``
    ///   after ``close()``.
    public func start() async throws {
        let client = try state.withLock { state -> ZooKeeperClient in
            try state.lifecycle.start()
            return state.client
        }
        let driver = Task { [weak self] in
            guard let events = self?.events else { return }
            for await event in events {
                guard let self, !Task.isCancelled else { return }
                await self.handle(event)
            }
        }
        state.withLock { $0.driver = driver }
        // The monitor's first event is the current connection state: a connected client starts the create.
        follow(client)
    }

    /// Waits until the node exists (created or adopted; returns at once if it does).
    /// - Parameter timeout: `nil` waits as long as the node is kept.
    /// - Throws: ``PersistentNodeError/timedOut`` when `timeout` passes first; ``RecipeLifecycleError/closed``
    ///   when the node is closed first; `CancellationError` when the task is cancelled.
    public func waitForInitialCreate(timeout: Duration?) async throws {
        try await RecipeWait.until(createdPaths(), timeout: timeout, timedOut: PersistentNodeError.timedOut,
                                  satisfiedNow: actualPath != nil) { _ in true }
    }

    /// A new stream for this subscriber: the path of each creation or adoption of our node (Curator's
    /// `PersistentNodeListener.nodeCreated`), starting with the current one if the node exists; finishes on
    /// ``close()``.
    public func createdPaths() -> AsyncStream<String> {
        Subscribers.stream(register: { continuation in
            state.withLock { state -> UInt64? in
                guard !state.closed else { return nil }
                // Under the lock (a buffer append) so no creation can slip in between.
                if let node = state.node { continuation.yield(node.path) }
                return state.subscribers.add(continuation)
            }
        }, remove: { [weak self] id in self?.state.withLock { $0.subscribers.remove(id) } })
    }

    /// Replaces the stored data and writes it to the node if it exists (a missing node gets it when recreated).
    /// - Throws: a non-retryable ``ZooKeeperError`` from the write (not `noNode`).
    public func setData(_ data: [UInt8]) async throws {
        let (client, node) = state.withLock { state in
            state.data = data
            return (state.client, state.node)
        }
        guard let node else { return }  // the create to come uses the new data
        do {
            _ = try await retrying(retryPolicy, client) { try await client.setData(try ZNodePath(node.path), data: data) }
        } catch let error as ZooKeeperError where error.code == .noNode {
            // Deleted meanwhile: the watch makes the driver recreate it with the new data.
        } catch {
            // Keep the promise that the node gets this data: the driver writes it on its next check.
            state.withLock { $0.pendingWrite = true }
            eventSink.yield(.check)
            throw error
        }
    }

    /// Switches to `newClient` (typically after the old session was lost) and recreates the node through it.
    public func replaceClient(_ newClient: ZooKeeperClient) {
        let started = state.withLock { state -> Bool in
            state.client = newClient
            return state.started && !state.closed
        }
        guard started else { return }
        follow(newClient)
        eventSink.yield(.clientReplaced)
    }

    /// Stops keeping the node, deletes it (guaranteed delete) and finishes every ``createdPaths()`` stream.
    /// The client stays open. Idempotent; every call returns once the node's tasks have ended.
    public func close() async {
        state.withLock { _ = $0.lifecycle.close() }
        await closer.run { [self] in
            let (tasks, subscribers) = state.withLock { state in
                defer { state.forwarder = nil; state.monitor = nil; state.retry = nil }
                return ([state.driver, state.monitor, state.forwarder, state.retry], state.subscribers.removeAll())
            }
            eventSink.finish()
            for task in tasks { task?.cancel() }
            // Any create in flight has returned (or its reply is lost); our requests after it see its effect.
            for task in tasks { await task?.value }
            for subscriber in subscribers { subscriber.finish() }
            await deleteOwnNode()
        }
    }

    /// Follows `client`'s connection states (replacing the previous monitor).
    private func follow(_ client: ZooKeeperClient) {
        let states = client.connectionStates()
        let sink = eventSink
        let clientID = ObjectIdentifier(client)
        let monitor = Task {
            for await connection in states {
                sink.yield(.connection(connection, clientID: clientID))
                if case .lost = connection { return }
            }
        }
        let previous = state.withLock { state -> Task<Void, Never>? in
            defer { state.monitor = monitor }
            return state.monitor
        }
        previous?.cancel()
        if state.withLock({ $0.closed }) { monitor.cancel() }
    }
}

/// Misuse of a ``PersistentNode``.
public enum PersistentNodeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The mode, ttl or path cannot make a node that can be kept in place.
    case invalidConfiguration(String)
    /// ``PersistentNode/waitForInitialCreate(timeout:)``: the timeout passed before the node existed.
    case timedOut

    public var description: String {
        switch self {
        case .invalidConfiguration(let reason): return "invalid persistent node: \(reason)"
        case .timedOut: return "persistent node: timed out waiting for the node"
        }
    }
}
