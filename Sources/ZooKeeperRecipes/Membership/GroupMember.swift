import Synchronization
public import ZooKeeperClient

/// Group membership — "which machines are alive right now": Curator's `GroupMember`.
///
/// ```swift
/// let member = try GroupMember(client: zk, membershipPath: "/cluster/workers", memberID: "host-a",
///                              payload: Array("10.0.0.5:8080".utf8))
/// let changes = member.changes()
/// try await member.start()
/// for await change in changes { … }      // .initial([id: payload]), then .joined / .updated / .left
/// let alive = member.currentMembers()     // [String: [UInt8]]
/// await member.close()
/// ```
///
/// **Layout**: `<membershipPath>/<memberID>`, EPHEMERAL, data = payload — Curator's layout, so Curator and
/// Shepherd members see each other. Missing parents are created as CONTAINERs.
///
/// **Algorithm**: our node is a ``PersistentNode`` (ephemeral, recreated after deletion, reconnection or,
/// with a `reconnect` factory, session loss). The directory is followed by a ``TreeCache`` (one persistent
/// recursive watch plus a read of the children; only direct children count as members), whose events are
/// turned into membership changes.
///
/// **Connection states**:
/// - `.suspended`, `.presumedExpired`: the cached membership is kept as last seen (it may be stale).
/// - `.reconnected`: the cache re-reads the directory and reports the differences (members that came or
///   went meanwhile); our node is checked and recreated if missing.
/// - `.lost`: ephemerals of our session are gone. With a `reconnect` factory the node is recreated through a
///   new client and a new cache is started on it, reporting the differences; without one no further change
///   is reported until ``replaceClient(_:)`` is called (the stream stays open until ``close()``).
///
/// Notable behaviours:
/// - Like Curator's `getCurrentMembers`, ``currentMembers()`` always includes this member (with its current
///   payload), even before its node is created or while it is being recreated.
/// - Two members with the same id do not fight: the second waits until the first's node is gone.
/// - Membership is as fresh as the session: a member cut off by a partition stays listed until its session
///   expires (the session timeout), which is the usual ZooKeeper liveness bound.
/// - A ``LongLivedRecipe``: ``withStarted(_:)`` scopes ``start()`` and ``close()``. Its ``node`` is started
///   and closed with it: do not start or close that one yourself.
public final class GroupMember: LongLivedRecipe {
    public let membershipPath: ZNodePath
    public let memberID: String
    public let retryPolicy: RetryPolicy
    /// Our node.
    public let node: PersistentNode

    private struct State {
        var members: [String: [UInt8]] = [:]
        var initialized = false
        var lifecycle = RecipeLifecycle()
        var closed: Bool { lifecycle.closed }
        /// The streams have finished (closed, or following the group ended for good): new subscribers
        /// finish at once.
        var streamsEnded = false
        var subscribers = Subscribers<MembershipChange>()
        var cache: TreeCache?
        var driver: Task<Void, Never>?
    }
    private let state = Mutex(State())
    private let closer = CloseOnce()

    /// - Throws: ``ZNodePathError`` if `memberID` is not a valid node name.
    public init(
        client: ZooKeeperClient, membershipPath: ZNodePath, memberID: String, payload: [UInt8] = [],
        retryPolicy: RetryPolicy = .standard, reconnect: (@Sendable () async throws -> ZooKeeperClient)? = nil
    ) throws {
        self.membershipPath = membershipPath
        self.memberID = memberID
        self.retryPolicy = retryPolicy
        node = try PersistentNode(client: client, path: try membershipPath.appending(memberID), mode: .ephemeral,
                                  data: payload, retryPolicy: retryPolicy, reconnect: reconnect)
    }

    deinit { state.withLock { $0.driver?.cancel() } }

    /// Creates our node and starts following the group; returns once the first membership read is done.
    /// - Throws: ``RecipeLifecycleError/alreadyStarted`` on a second call, ``RecipeLifecycleError/closed``
    ///   after ``close()``; a non-retryable ``ZooKeeperError`` from the first read (the node is kept
    ///   regardless, until ``close()``).
    public func start() async throws {
        try state.withLock { try $0.lifecycle.start() }
        try await node.start()
        let ready = changes()  // its first element is `.initial`, once the first read is applied
        let cache = try await startCache(on: node.client)
        let driver = Task { [weak self] in
            guard let self else { return }
            await self.follow(cache)
        }
        let closed = state.withLock { state -> Bool in
            state.driver = driver
            return state.closed
        }
        if closed { driver.cancel() }
        for await _ in ready { break }
    }

    /// The members as last seen: id → payload. Always includes this member.
    public func currentMembers() -> [String: [UInt8]] {
        var members = state.withLock { $0.members }
        members[memberID] = node.data
        return members
    }

    /// A new stream for this subscriber: `.initial` (the members at subscription, once the first read is
    /// done), then every change in order; finishes on ``close()``.
    public func changes() -> AsyncStream<MembershipChange> {
        Subscribers.stream(register: { continuation in
            state.withLock { state -> UInt64? in
                // Under the lock (a buffer append) so no change can slip in between.
                if state.initialized { continuation.yield(.initial(state.members)) }
                return state.closed || state.streamsEnded ? nil : state.subscribers.add(continuation)
            }
        }, remove: { [weak self] id in self?.state.withLock { $0.subscribers.remove(id) } })
    }

    /// Replaces our payload (kept for re-creation) and writes it to our node.
    public func setPayload(_ payload: [UInt8]) async throws {
        try await node.setData(payload)
    }

    /// Switches to `newClient` after the old session was lost: our node is recreated and the group re-read
    /// through it.
    public func replaceClient(_ newClient: ZooKeeperClient) {
        node.replaceClient(newClient)
    }

    /// Leaves the group (our node is deleted), stops following it and finishes every ``changes()`` stream.
    /// The client stays open. Idempotent; every call returns once the member's tasks have ended.
    public func close() async {
        state.withLock { _ = $0.lifecycle.close() }
        await closer.run { [self] in
            let (driver, cache, subscribers) = state.withLock { state in
                defer { state.cache = nil; state.driver = nil }
                return (state.driver, state.cache, state.subscribers.removeAll())
            }
            await cache?.close()  // finishes the stream the driver reads, before the driver is cancelled
            driver?.cancel()
            await driver?.value
            for subscriber in subscribers { subscriber.finish() }
            await node.close()
        }
    }

    // MARK: - Following the directory

    private func startCache(on client: ZooKeeperClient) async throws -> (TreeCache, AsyncStream<CacheEvent>) {
        let cache = TreeCache(client: client, path: membershipPath, maxDepth: 1, retryPolicy: retryPolicy)
        let events = cache.events()  // subscribed before start: it begins with `.initialized`
        try await cache.start()
        let keep = state.withLock { state -> Bool in
            state.cache = cache
            return !state.closed
        }
        if !keep { await cache.close() }
        return (cache, events)
    }

    /// Applies cache events until the cache ends; after a session loss, restarts on the node's next client.
    private func follow(_ first: (TreeCache, AsyncStream<CacheEvent>)) async {
        var current = first
        while true {
            for await event in current.1 { apply(event) }
            // The cache ended: closed, or our session was lost.
            let lostClient = current.0.client
            guard !state.withLock({ $0.closed }), !Task.isCancelled else { return }
            // Wait for the node to be recreated through another client (factory or replaceClient).
            var replaced = false
            for await _ in node.createdPaths() where node.client !== lostClient {
                replaced = true
                break
            }
            guard replaced, !Task.isCancelled else { return finishSubscribers() }
            do {
                current = try await retrying(retryPolicy, node.client) { try await self.startCache(on: self.node.client) }
            } catch {
                return finishSubscribers()
            }
        }
    }

    /// Turns a cache event into membership changes (direct children only).
    private func apply(_ event: CacheEvent) {
        state.withLock { state in
            var changes: [MembershipChange] = []
            switch event {
            case let .initialized(snapshot):
                let fresh = members(in: snapshot)
                if state.initialized {
                    // A new cache after a session loss: report the differences.
                    for id in state.members.keys.sorted() where fresh[id] == nil { changes.append(.left(id)) }
                    for (id, payload) in fresh.sorted(by: { $0.key < $1.key }) {
                        if let old = state.members[id] {
                            if old != payload { changes.append(.updated(id, payload)) }
                        } else {
                            changes.append(.joined(id, payload))
                        }
                    }
                } else {
                    changes.append(.initial(fresh))
                }
                state.members = fresh
                state.initialized = true
            case let .created(child), let .changed(child):
                guard let id = memberID(of: child.path) else { return }
                changes.append(state.members[id] == nil ? .joined(id, child.data) : .updated(id, child.data))
                state.members[id] = child.data
            case let .deleted(path):
                if path == membershipPath {
                    for id in state.members.keys.sorted() { changes.append(.left(id)) }
                    state.members = [:]
                } else if let id = memberID(of: path), state.members.removeValue(forKey: id) != nil {
                    changes.append(.left(id))
                }
            case .resynced:
                return
            }
            // Yielded under the lock (buffer appends) so every subscriber sees changes in order.
            for change in changes { state.subscribers.yield(change) }
        }
    }

    private func members(in snapshot: [ZNodePath: ChildData]) -> [String: [UInt8]] {
        var members: [String: [UInt8]] = [:]
        for (path, child) in snapshot { if let id = memberID(of: path) { members[id] = child.data } }
        return members
    }

    /// The member id for a direct child of the membership path; `nil` for the path itself or deeper nodes.
    private func memberID(of path: ZNodePath) -> String? {
        path.parent == membershipPath ? path.name : nil
    }

    private func finishSubscribers() {
        let subscribers = state.withLock { state in
            state.streamsEnded = true
            return state.subscribers.removeAll()
        }
        for subscriber in subscribers { subscriber.finish() }
    }
}

/// A change in a group's membership, as ``GroupMember/changes()`` reports it.
public enum MembershipChange: Hashable, Sendable {
    /// The members at subscription: id → payload.
    case initial([String: [UInt8]])
    /// A member appeared.
    case joined(String, [UInt8])
    /// A member's payload changed (or it left and came back between two reads).
    case updated(String, [UInt8])
    /// A member disappeared.
    case left(String)
}
