import Synchronization
public import ZooKeeperClient

/// Leader election among processes: Curator's `LeaderLatch`, znode for znode.
///
/// ```swift
/// let latch = LeaderLatch(client: zk, path: "/election/scheduler", id: "host-a")
/// try await latch.start()
/// for await change in latch.leadershipChanges() where change.isLeader {
///     await runAsLeader(fencedBy: change.fencingToken!)
/// }
/// ```
///
/// **Layout**: `<path>/_c_<uuid>-latch-<seq>` (ephemeral-sequential, protected, data = `id`), ordered by
/// the text after the last `latch-`. Curator latches on the same path take part in the same election.
///
/// **Algorithm** (the contender engine of the locks, with the leader policy): create our node; list the
/// children; the first node leads. A non-leader watches (getData) its immediate predecessor only; the
/// leader watches its own node, so its deletion from outside is noticed. Any change re-lists.
///
/// **Guarantees**: we are leader only while our node is first *and* its `ephemeralOwner` is our live
/// session (CURATOR-696). Leadership is dropped at once on `.suspended` and `.presumedExpired`
/// (Curator's standard error policy), re-checked on `.reconnected`, and dropped for good on `.lost`.
/// `.readOnly` counts as not connected: a read-only server's view may be stale, so we never lead on it.
/// Each term has a fencing token (the node's `czxid`), larger than every earlier leader's.
///
/// Notable behaviours:
/// - Two processes can *believe* they lead only while the old leader has not yet noticed its
///   disconnection (ZooKeeper's usual caveat); it stops at `.suspended`, and the token fences it.
/// - After ``close()`` or a lost session the latch is finished: make a new one (with a new client).
/// - A ``LongLivedRecipe``: ``withStarted(_:)`` scopes ``start()`` and ``close()``.
public final class LeaderLatch: LongLivedRecipe {
    public let client: ZooKeeperClient
    /// The election directory.
    public let path: ZNodePath
    /// This participant's id, stored as the node's data (Curator's `getParticipants` reads it).
    public let id: String
    public let retryPolicy: RetryPolicy

    /// The latch's name inside protected node names (Curator's `LOCK_NAME`).
    public static let latchName = "latch-"

    /// A leadership state: whether we lead, and the term's fencing token.
    public struct Leadership: Sendable, Hashable {
        public var isLeader: Bool
        /// The leader node's `czxid` while leading; `nil` otherwise.
        public var fencingToken: Int64?
    }

    private enum Event: Sendable {
        case check
        case connection(ConnectionState)
        case watchFired(UInt64)
    }

    private struct State {
        var lifecycle = RecipeLifecycle()
        var closed: Bool { lifecycle.closed }
        /// The streams have finished (closed, or the session is lost): new subscribers finish at once.
        var streamsEnded = false
        var leadership = Leadership(isLeader: false, fencingToken: nil)
        var node: ProtectedCreate.Created?
        var epoch: UInt64 = 0
        var generation: UInt64 = 0
        var subscribers = Subscribers<Leadership>()
        /// The connection monitor, the driver and pending retries, by id; a retry removes itself when done.
        var tasks: [UInt64: Task<Void, Never>] = [:]
        var nextTaskID: UInt64 = 0
        var forwarder: Task<Void, Never>?
        /// Backed-off re-checks in a row (see `check`); reset once a watch is armed.
        var backoffs = 0
    }

    /// How many times one check starts over at once (our predecessor or node vanished) before it
    /// backs off and re-checks later.
    static let restartsBeforeBackoff = 10

    private let state = Mutex(State())

    private let events: AsyncStream<Event>
    private let closer = CloseOnce()
    private let eventSink: AsyncStream<Event>.Continuation

    public init(client: ZooKeeperClient, path: ZNodePath, id: String = "", retryPolicy: RetryPolicy = .standard) {
        self.client = client
        self.path = path
        self.id = id
        self.retryPolicy = retryPolicy
        (events, eventSink) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
    }

    /// Joins the election (returns at once; leadership is reported by ``leadershipChanges()`` and awaited
    /// by ``waitForLeadership(timeout:)``).
    /// - Throws: ``RecipeLifecycleError/alreadyStarted`` on a second call, ``RecipeLifecycleError/closed``
    ///   after ``close()``.
    public func start() async throws {
        try state.withLock { try $0.lifecycle.start() }
        let states = client.connectionStates()
        let monitor = Task { [weak self] in
            for await connection in states {
                guard let self else { return }
                self.connectionChanged(connection)
                if case .lost = connection { return }
            }
        }
        let driver = Task { [weak self] in
            guard let events = self?.events else { return }
            for await event in events {
                guard let self, !Task.isCancelled else { return }
                if await self.handle(event) == false { return }
            }
        }
        state.withLock { state in
            for task in [monitor, driver] {
                state.nextTaskID += 1
                state.tasks[state.nextTaskID] = task
            }
        }
        eventSink.yield(.check)
    }

    /// How many background tasks the latch keeps (tests: finished ones must not pile up).
    var taskCount: Int { state.withLock { $0.tasks.count } }

    /// Whether we lead now.
    public var hasLeadership: Bool { state.withLock { $0.leadership.isLeader } }

    /// The current term's fencing token while leading.
    public var fencingToken: Int64? { state.withLock { $0.leadership.fencingToken } }

    /// A new stream for this subscriber: the current leadership, then every change; finishes when the latch
    /// is closed or its session lost (after close: the current, not-leader state, then the end).
    public func leadershipChanges() -> AsyncStream<Leadership> {
        Subscribers.stream(register: { continuation in
            state.withLock { state -> UInt64? in
                continuation.yield(state.leadership)  // under the lock: before any later change
                return state.closed || state.streamsEnded ? nil : state.subscribers.add(continuation)
            }
        }, remove: { [weak self] id in self?.state.withLock { $0.subscribers.remove(id) } })
    }

    /// Waits until we lead (returns at once if we do).
    /// - Parameter timeout: `nil` waits as long as the latch runs.
    /// - Throws: ``LeaderLatchError/timedOut`` when `timeout` passes first; ``RecipeLifecycleError/closed``
    ///   when the latch is closed or its session lost first; `CancellationError` when the task is cancelled.
    public func waitForLeadership(timeout: Duration? = nil) async throws {
        try await RecipeWait.until(leadershipChanges(), timeout: timeout, timedOut: LeaderLatchError.timedOut,
                                  satisfiedNow: hasLeadership) {
            $0.isLeader
        }
    }

    /// Applies `operations` atomically, and only while this latch leads: one `multi` that first
    /// checks our leader node still exists (so a deposed leader that has not noticed yet writes nothing).
    ///
    /// - Throws: ``LeaderLatchError/notLeader`` when we do not lead (locally, or our node is gone /
    ///   our session expired on the server); otherwise as ``ZooKeeperClient/multi(_:)``.
    @discardableResult
    public func guardedMulti(_ operations: [Operation]) async throws -> [OperationResult] {
        let node = state.withLock { $0.leadership.isLeader ? $0.node : nil }
        guard let node else { throw LeaderLatchError.notLeader }
        do {
            return try await GuardedWrite.multi(client: client, guardNode: node.path, operations)
        } catch LockError.leaseLost {
            eventSink.yield(.check)  // re-evaluate: the node is gone
            throw LeaderLatchError.notLeader
        }
    }

    /// Leaves the election: stops, reports not-leader, deletes our node (guaranteed delete) and finishes every
    /// ``leadershipChanges()`` stream. Idempotent; every call returns once the latch's tasks have ended.
    public func close() async {
        state.withLock { _ = $0.lifecycle.close() }
        await closer.run { [self] in
            let (tasks, forwarder) = state.withLock { state -> ([Task<Void, Never>], Task<Void, Never>?) in
                defer { state.tasks = [:]; state.forwarder = nil }
                return (Array(state.tasks.values), state.forwarder)
            }
            eventSink.finish()
            forwarder?.cancel()
            for task in tasks { task.cancel() }
            for task in tasks { await task.value }
            await forwarder?.value
            setLeadership(Leadership(isLeader: false, fencingToken: nil), epoch: nil)
            if let nodePath = state.withLock({ $0.node?.path }) {
                await GuaranteedDelete.run(client: client, path: nodePath)
            }
            finishSubscribers()
        }
    }

    // MARK: - Driver

    /// Whether leadership may be claimed in `connection`: only on a read-write server. A read-only
    /// server (``ConnectionState/readOnly``) is a partitioned minority member whose view may be stale:
    /// the real majority may have elected someone else meanwhile.
    static func mayLead(in connection: ConnectionState) -> Bool {
        switch connection {
        case .connected, .reconnected: return true
        default: return false
        }
    }

    private func connectionChanged(_ connection: ConnectionState) {
        let drop = !Self.mayLead(in: connection)
        state.withLock { $0.epoch += 1 }
        if drop { setLeadership(Leadership(isLeader: false, fencingToken: nil), epoch: nil) }
        eventSink.yield(.connection(connection))
    }

    /// Handles one event; `false` ends the driver.
    private func handle(_ event: Event) async -> Bool {
        switch event {
        case .check:
            await check()
        case .connection(.connected), .connection(.reconnected):
            await check()
        case .connection(.lost):
            setLeadership(Leadership(isLeader: false, fencingToken: nil), epoch: nil)
            finishSubscribers()
            return false
        case .connection:
            break
        case let .watchFired(generation):
            if generation == state.withLock({ $0.generation }) { await check() }
        }
        return true
    }

    /// The engine under the latch: one holder (the leader), which watches its own node.
    private var contenders: LockContenders {
        LockContenders(client: client, directory: path, lockName: Self.latchName, maxLeases: 1, retryPolicy: retryPolicy,
                       turn: .leader)
    }

    private func check() async {
        let epoch = state.withLock { $0.epoch }
        guard Self.mayLead(in: client.connectionState) else { return }  // a reconnection will bring us back
        let contenders = contenders
        var reported = false
        do {
            var restarts = 0
            while true {
                try Task.checkCancellation()
                if restarts == Self.restartsBeforeBackoff {
                    // Predecessors keep vanishing (a churning election): look again after a backoff,
                    // growing while it lasts, instead of spinning — or of giving up with no watch armed.
                    scheduleRetry(after: retryPolicy.delay(beforeRetry: nextBackoff()))
                    return
                }
                restarts += 1
                let (node, listed) = try await ensureNode(contenders)
                switch try await contenders.look(at: node, listed: listed, reported: &reported) {
                case .again:
                    continue
                case .gone:
                    // Our node is gone (deleted, or its session ended): not leader; re-enter with a new one.
                    setLeadership(Leadership(isLeader: false, fencingToken: nil), epoch: nil)
                    state.withLock { $0.node = nil }
                    await GuaranteedDelete.run(client: client, path: node.path)
                case .waits(let watch):
                    setLeadership(Leadership(isLeader: false, fencingToken: nil), epoch: nil)
                    arm(watch)
                    return
                case .holds(let holding, let watch):
                    if let watch { arm(watch) }
                    setLeadership(Leadership(isLeader: true, fencingToken: holding.czxid), epoch: epoch)
                    return
                }
            }
        } catch LockError.sequenceExhausted {
            // Our node's sequence is past ZooKeeper's range (the engine deleted it): we never lead on it.
            // Say so loudly and try again after a growing backoff (the election directory is a container:
            // once empty, the server removes it and the count restarts).
            client.configuration.logHandler.log(
                .error, "leader latch \(path): the election directory has used up ZooKeeper's 32-bit sequence numbers; not taking part until it is recreated")
            scheduleRetry(after: retryPolicy.delay(beforeRetry: nextBackoff()))
        } catch let error as ZooKeeperError where error.isRecipeRetryable {
            scheduleRetry(after: retryPolicy.delay(beforeRetry: 0))
        } catch {
            // Cancellation (closing) or the session ended: the connection monitor reports the rest.
        }
    }

    /// The number of the backoff about to be taken (backoffs in a row since a watch was last armed).
    private func nextBackoff() -> Int {
        state.withLock { state -> Int in
            defer { state.backoffs += 1 }
            return state.backoffs
        }
    }

    /// Our node, or a new one (with the directory's children) if we have none. (One of an older session
    /// never leads: the engine finds it ``LockContenders/Standing/gone``.)
    private func ensureNode(_ contenders: LockContenders) async throws -> (ProtectedCreate.Created, [String]?) {
        if let node = state.withLock({ $0.node }) { return (node, nil) }
        let (node, listed) = try await contenders.enter(data: Array(id.utf8), deadline: nil)
        let keep = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.node = node
            return true
        }
        if !keep {
            await GuaranteedDelete.run(client: client, path: node.path)
            throw CancellationError()
        }
        return (node, listed)
    }

    /// Forwards `watch` as a re-check; a watch armed before it is dropped. Resets the backoff count.
    private func arm(_ watch: OneShotWatch) {
        let generation = state.withLock { state -> UInt64 in
            state.backoffs = 0
            state.generation += 1
            return state.generation
        }
        let sink = eventSink
        let forwarder = Task {
            if (try? await watch.event()) != nil { sink.yield(.watchFired(generation)) }
        }
        let previous = state.withLock { state -> Task<Void, Never>? in
            defer { state.forwarder = forwarder }
            return state.forwarder
        }
        previous?.cancel()
        if state.withLock({ $0.closed }) { forwarder.cancel() }
    }

    /// Re-checks after `delay` (through the event stream, so checks never overlap).
    private func scheduleRetry(after delay: Duration) {
        let sink = eventSink
        state.withLock { state in
            guard !state.closed else { return }
            state.nextTaskID += 1
            let id = state.nextTaskID
            // Created under the lock: its removal (which takes the lock) runs after it is stored.
            state.tasks[id] = Task { [weak self] in
                try? await Task.sleep(for: delay)
                sink.yield(.check)
                _ = self?.state.withLock { $0.tasks.removeValue(forKey: id) }  // done: do not keep it
            }
        }
    }

    /// Publishes a leadership change. Becoming leader needs `epoch` to be the current connection epoch
    /// (no suspension since the check began) and the latch to be open.
    private func setLeadership(_ leadership: Leadership, epoch: UInt64?) {
        state.withLock { state in
            if leadership.isLeader {
                guard !state.closed, let epoch, epoch == state.epoch, Self.mayLead(in: client.connectionState) else { return }
            }
            guard state.leadership != leadership else { return }
            state.leadership = leadership
            // Yielded under the lock so every subscriber sees changes in the order they happened
            // (yield only enqueues; it runs no consumer code).
            state.subscribers.yield(leadership)
        }
    }

    private func finishSubscribers() {
        let subscribers = state.withLock { state in
            state.streamsEnded = true
            return state.subscribers.removeAll()
        }
        for subscriber in subscribers { subscriber.finish() }
    }
}

/// Misuse of a ``LeaderLatch``.
public enum LeaderLatchError: Error, Sendable, Hashable {
    /// ``LeaderLatch/waitForLeadership(timeout:)``: the timeout passed before we led.
    case timedOut
    /// ``LeaderLatch/guardedMulti(_:)``: we do not lead, so nothing was written.
    case notLeader
}
