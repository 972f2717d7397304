import Synchronization
public import ZooKeeperClient

/// Leader election where leadership is a *task*: Curator's `LeaderSelector`, znode for znode.
///
/// ```swift
/// let selector = LeaderSelector(client: zk, path: "/election/compactor", id: "host-a")
/// try await selector.start(autoRequeue: true) { term in
///     // Runs only while we lead; cancelled if leadership becomes uncertain.
///     try await compactForever(fencedBy: term.fencingToken)
/// }
/// …
/// await selector.close()
/// ```
///
/// As a ``LongLivedRecipe`` (scoped with ``withStarted(_:)``), give the body to the initializer and call the
/// parameterless ``start()``:
///
/// ```swift
/// try await LeaderSelector(client: zk, path: "/election/compactor", autoRequeue: true) { term in
///     try await compactForever(fencedBy: term.fencingToken)
/// }.withStarted { selector in try await runUntilShutdown() }
/// ```
///
/// **Layout**: a ``DistributedMutex`` on `path`, exactly Curator's (`LeaderSelector` wraps an
/// `InterProcessMutex`): `<path>/_c_<uuid>-lock-<seq>`, ephemeral-sequential, data = ``id`` (UTF-8, what
/// Curator's `getParticipants` reads). Curator `LeaderSelector`s and ``DistributedMutex``es on the same path
/// take part in the same election.
///
/// **Algorithm**: an attempt acquires the mutex (protected create, herd-free wait on the immediate
/// predecessor, CURATOR-696 ownership check), then runs the leadership body in its own task while holding
/// the lock. When the body returns (or throws, or is cancelled) leadership is relinquished: the node is
/// deleted (guaranteed delete). With `autoRequeue` the participant then queues again at the back; without,
/// it waits for ``requeue()``.
///
/// **Connection states** (Curator's `LeaderSelectorListenerAdapter`: `CancelLeadershipException` on an
/// error state):
/// - `.suspended`, `.presumedExpired`, `.readOnly`: the body's task is **cancelled** at once (the session,
///   and so the lock, may be gone); once the body has returned our node is deleted, which waits for the
///   reconnection if need be. A waiting participant keeps its place in the queue.
/// - `.reconnected`: nothing to undo; with `autoRequeue` (or after ``requeue()``) the participant queues
///   again with a new node. A lease is never granted while the connection is down: a term starts only if the
///   client is connected after the lock was acquired (a disconnection after that cancels the body).
/// - `.lost`: the body is cancelled and the selector stops for good (our client never resumes a lost
///   session): make a new selector with a new client.
///
/// **Guarantees**: at most one body runs at a time per selector; across processes, a body runs only while
/// its node is first and owned by its live session. Terms are fenced: ``Term/fencingToken`` (the node's
/// `czxid`) is larger than every earlier leader's.
///
/// Notable behaviours:
/// - Cancellation is cooperative: a body that ignores cancellation keeps running and keeps the node (so no
///   one else leads) until it returns — unless the session expires, when the server deletes the node and
///   another participant may lead while the stubborn body still runs. Honour cancellation, or fence with the
///   token (ZooKeeper's usual caveat for a holder cut off by a partition).
/// - An error thrown by the body ends the term like a return.
/// - As for ``DistributedMutex``, children of `path` that are not lock nodes are ignored (Curator would count
///   them as participants): still, keep other nodes out of an election directory.
public final class LeaderSelector: LongLivedRecipe {
    public let client: ZooKeeperClient
    /// The election directory (the mutex's path).
    public let path: ZNodePath
    /// This participant's id, stored as its node's data.
    public let id: String
    public let retryPolicy: RetryPolicy

    /// The lock name inside node names: Curator's `InterProcessMutex` `LOCK_NAME`.
    public static let lockName = DistributedMutex.lockName

    /// One leadership term, handed to the body.
    public struct Term: Sendable, Hashable {
        /// The lock node's creation zxid: strictly larger than every earlier leader's.
        public var fencingToken: Int64
        /// The lock node, e.g. `/election/compactor/_c_…-lock-0000000042`.
        public var nodePath: String
        /// The session that holds the lock.
        public var sessionID: Int64
        /// 1 for this selector's first term, then 2, … (local count).
        public var number: Int
    }

    /// A participant as read from the election directory.
    public struct Participant: Sendable, Hashable {
        /// The id stored in its node (UTF-8; Curator's `Participant.getId()`).
        public var id: String
        /// Whether its node is first (Curator's `isLeader()`).
        public var isLeader: Bool
        /// Its node's path.
        public var nodePath: String
    }

    typealias Body = @Sendable (Term) async throws -> Void

    private struct State {
        var lifecycle = RecipeLifecycle()
        var started: Bool { lifecycle.started }
        var closed: Bool { lifecycle.closed }
        /// The client's session is over: no more attempts.
        var lost = false
        var autoRequeue = false
        var body: Body?
        /// The attempt loop, while queued or leading (and while it relinquishes a term's node).
        var attempt: Task<Void, Never>?
        /// The attempt loop waits for or holds leadership (false once its term is over and it only relinquishes).
        var queued = false
        /// ``requeue()`` was called after the attempt's term ended: the loop queues once more.
        var requeueRequested = false
        var attemptID: UInt64 = 0
        var term: Term?
        var bodyTask: Task<Void, any Error>?
        var terms = 0
        var monitor: Task<Void, Never>?
    }

    private let state = Mutex(State())
    private let closer = CloseOnce()
    /// The body and requeue mode given to the initializer, for ``start()``.
    private let initialLeadership: (autoRequeue: Bool, body: Body)?

    /// A selector whose body is given to ``start(autoRequeue:_:)``.
    public init(client: ZooKeeperClient, path: ZNodePath, id: String = "", retryPolicy: RetryPolicy = .standard) {
        self.client = client
        self.path = path
        self.id = id
        self.retryPolicy = retryPolicy
        initialLeadership = nil
    }

    /// A selector that keeps its body, to be started by the parameterless ``start()`` (the
    /// ``LongLivedRecipe`` form, e.g. ``withStarted(_:)``).
    /// - Parameters:
    ///   - autoRequeue: as for ``start(autoRequeue:_:)``.
    ///   - leadership: as for ``start(autoRequeue:_:)``.
    public init(
        client: ZooKeeperClient, path: ZNodePath, id: String = "", retryPolicy: RetryPolicy = .standard,
        autoRequeue: Bool = false, leadership: @escaping @Sendable (Term) async throws -> Void
    ) {
        self.client = client
        self.path = path
        self.id = id
        self.retryPolicy = retryPolicy
        initialLeadership = (autoRequeue, leadership)
    }

    deinit {
        state.withLock { state in
            state.monitor?.cancel()
            state.attempt?.cancel()
            state.bodyTask?.cancel()
        }
    }

    /// Joins the election; `leadership` runs each time this participant leads.
    ///
    /// - Parameters:
    ///   - autoRequeue: queue again after each term (and after a failed attempt); otherwise call
    ///     ``requeue()`` to take part again (Curator's `autoRequeue()`).
    ///   - leadership: the work done while leading. Returning relinquishes leadership. Its task is cancelled
    ///     on ``interruptLeadership()``, ``close()`` and when the connection is suspended or lost.
    /// - Throws: ``RecipeLifecycleError/alreadyStarted`` on a second call (of either `start`),
    ///   ``RecipeLifecycleError/closed`` after ``close()``.
    public func start(autoRequeue: Bool = false, _ leadership: @escaping @Sendable (Term) async throws -> Void) async throws {
        try state.withLock { state in
            try state.lifecycle.start()
            state.autoRequeue = autoRequeue
            state.body = leadership
        }
        let states = client.connectionStates()
        let monitor = Task { [weak self] in
            for await connection in states {
                guard let self else { return }
                if self.connectionChanged(connection) == false { return }
            }
        }
        let closed = state.withLock { state -> Bool in
            state.monitor = monitor
            return state.closed
        }
        if closed { monitor.cancel() }
        _ = enqueue()
    }

    /// Joins the election with the body and requeue mode given to
    /// ``init(client:path:id:retryPolicy:autoRequeue:leadership:)``.
    /// - Throws: ``LeaderSelectorError/noLeadership`` if the selector was made without a body (use
    ///   ``start(autoRequeue:_:)``); otherwise as ``start(autoRequeue:_:)``.
    public func start() async throws {
        guard let initialLeadership else { throw LeaderSelectorError.noLeadership }
        try await start(autoRequeue: initialLeadership.autoRequeue, initialLeadership.body)
    }

    /// Queues another attempt at leadership if none is queued or running (Curator's `requeue()`).
    ///
    /// An attempt whose term has ended (``hasLeadership`` is `false` again) counts as neither, even while it
    /// still deletes its node: the new attempt follows once the node is gone.
    /// - Returns: `true` if an attempt was queued; `false` if one already is, or the session is lost.
    /// - Throws: ``LeaderSelectorError/notStarted`` before ``start(autoRequeue:_:)`` or after ``close()``.
    @discardableResult
    public func requeue() throws -> Bool {
        try state.withLock { state in
            guard state.started, !state.closed else { throw LeaderSelectorError.notStarted }
        }
        return enqueue()
    }

    /// Whether a leadership body runs now.
    public var hasLeadership: Bool { state.withLock { $0.term != nil } }

    /// The current term while leading.
    public var currentTerm: Term? { state.withLock { $0.term } }

    /// Cancels the running body, if we lead (Curator's `interruptLeadership()`); leadership is relinquished
    /// once it returns. Without `autoRequeue` the participant then stays out until ``requeue()``.
    public func interruptLeadership() {
        let task = state.withLock { $0.bodyTask }
        task?.cancel()
    }

    /// Leaves the election: cancels the body (or the wait), and returns once our node is deleted and the
    /// selector's tasks (body included) have ended. Idempotent.
    public func close() async {
        state.withLock { _ = $0.lifecycle.close() }
        await closer.run { [self] in
            let (attempt, monitor, body) = state.withLock { state in
                defer { state.monitor = nil }
                return (state.attempt, state.monitor, state.bodyTask)
            }
            monitor?.cancel()
            body?.cancel()
            attempt?.cancel()
            await attempt?.value
            _ = await body?.result
            await monitor?.value
        }
    }

    /// Every participant in election order, read from the server; the first is the leader (Curator's
    /// `getParticipants`). Nodes that vanish while reading, and children that are not lock nodes, are skipped.
    public func participants() async throws -> [Participant] {
        let children: [String]
        do {
            children = try await retrying(retryPolicy, client) { try await client.getChildren(path) }
        } catch let error as ZooKeeperError where error.code == .noNode {
            return []
        }
        var result: [Participant] = []
        for child in LockContenders.contenders(children, markers: Self.markers).ordered {
            let nodePath = try path.appending(child)
            do {
                let (data, _) = try await retrying(retryPolicy, client) { try await client.getData(nodePath) }
                result.append(Participant(id: String(decoding: data, as: UTF8.self), isLeader: result.isEmpty,
                                          nodePath: nodePath.string))
            } catch let error as ZooKeeperError where error.code == .noNode {
            }
        }
        return result
    }

    /// The current leader as read from the server, or `nil` if there is no participant (Curator returns a
    /// dummy participant instead).
    public func leader() async throws -> Participant? {
        try await participants().first
    }

    // MARK: - Attempts

    /// The names that make a child a participant: exactly ``DistributedMutex``'s (ours/Curator's `lock-`, and
    /// kazoo's `__lock__`, which we defer to), so a selector and a mutex on one path are one lock.
    static let markers = [lockName, LockContenders.kazooLockName]

    private var contenders: LockContenders {
        LockContenders(client: client, directory: path, lockName: Self.lockName, maxLeases: 1, retryPolicy: retryPolicy,
                       sortNames: Self.markers)
    }

    /// Starts the attempt loop unless it runs already.
    private func enqueue() -> Bool {
        state.withLock { state in
            guard state.started, !state.closed, !state.lost else { return false }
            if state.attempt != nil {
                // The loop runs; once its term is over it only relinquishes: ask it to queue again.
                guard !state.queued, !state.requeueRequested else { return false }
                state.requeueRequested = true
                return true
            }
            state.queued = true
            state.attemptID += 1
            let attemptID = state.attemptID
            // Created under the lock: the task's own bookkeeping (which takes the lock) runs after we store it.
            state.attempt = Task { [weak self] in await self?.attemptLoop(attemptID) }
            return true
        }
    }

    private func attemptLoop(_ attemptID: UInt64) async {
        var failures = 0
        while true {
            var failed = false
            do {
                try await attemptOnce()
                failures = 0
            } catch is CancellationError {
            } catch {
                failed = true  // connection loss past the retry policy, session expired, …
            }
            let again = state.withLock { state -> Bool in
                let requested = state.requeueRequested
                state.requeueRequested = false
                if !Task.isCancelled, state.autoRequeue || requested, !state.closed, !state.lost {
                    state.queued = true
                    return true
                }
                if state.attemptID == attemptID {
                    state.attempt = nil
                    state.queued = false
                }
                return false
            }
            guard again else { return }
            if failed {
                try? await Task.sleep(for: retryPolicy.delay(beforeRetry: min(failures, 5)))
                failures += 1
            }
        }
    }

    /// Acquires the lock, runs one term, relinquishes.
    private func attemptOnce() async throws {
        let holding = try await contenders.acquire(data: Array(id.utf8), deadline: nil)
        let nodePath = holding.path
        guard let bodyTask = beginTerm(holding) else {
            // Closed, cancelled or disconnected since the lock was granted: relinquish without leading.
            state.withLock { $0.queued = false }
            await GuaranteedDelete.run(client: client, path: nodePath)
            try Task.checkCancellation()
            return
        }
        await withTaskCancellationHandler {
            _ = await bodyTask.result
        } onCancel: {
            bodyTask.cancel()
        }
        state.withLock { state in
            state.term = nil
            state.bodyTask = nil
            state.queued = false  // from here a requeue() is a new attempt, not this one
        }
        await GuaranteedDelete.run(client: client, path: nodePath)
    }

    /// Registers the term and starts its body, unless leading is not safe now.
    private func beginTerm(_ holding: LockContenders.Holding) -> Task<Void, any Error>? {
        state.withLock { state -> Task<Void, any Error>? in
            guard !state.closed, !state.lost, !Task.isCancelled, let body = state.body else { return nil }
            // Checked under our lock, after the term would be visible to the monitor: a disconnection before
            // this check refuses the term; one after it is seen by the monitor, which cancels the body.
            // Read-write servers only: a read-only server's view may be stale (see LeaderLatch.mayLead).
            guard LeaderLatch.mayLead(in: client.connectionState), client.session?.id == holding.sessionID else { return nil }
            state.terms += 1
            let term = Term(fencingToken: holding.czxid, nodePath: holding.path.string, sessionID: holding.sessionID,
                            number: state.terms)
            let task = Task { try await body(term) }
            state.term = term
            state.bodyTask = task
            return task
        }
    }

    /// Follows the client's connection; `false` ends the monitor.
    private func connectionChanged(_ connection: ConnectionState) -> Bool {
        switch connection {
        case .connecting, .connected, .reconnected:
            return true
        case .suspended, .presumedExpired, .readOnly:
            interruptLeadership()
            return true
        case .lost:
            let (body, attempt) = state.withLock { state in
                state.lost = true
                return (state.bodyTask, state.attempt)
            }
            body?.cancel()
            attempt?.cancel()
            return false
        }
    }
}

/// Misuse of a ``LeaderSelector``.
public enum LeaderSelectorError: Error, Sendable, Hashable {
    /// ``LeaderSelector/start()`` on a selector made without a leadership body.
    case noLeadership
    /// ``LeaderSelector/requeue()`` before ``LeaderSelector/start(autoRequeue:_:)`` or after
    /// ``LeaderSelector/close()``.
    case notStarted
}
