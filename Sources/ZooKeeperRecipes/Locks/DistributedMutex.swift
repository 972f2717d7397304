public import ZooKeeperClient

/// A distributed, reentrant, fair mutex: Curator's `InterProcessMutex`, znode for znode.
///
/// ```swift
/// let mutex = DistributedMutex(client: zk, path: "/locks/orders")
/// let next = try await mutex.withLock(timeout: .seconds(5)) { lease in
///     try await nextOrderNumber(fencedBy: lease.fencingToken)
/// }
/// ```
///
/// **Layout** (compatible with Curator: a Swift process and a Java process locking the same path
/// exclude each other): `<path>/_c_<uuid>-lock-<seq>`, ephemeral-sequential, parents created as
/// containers. Contenders are ordered by the text after the last `lock-` (Curator's `fixForSorting`).
///
/// **Algorithm**: create our node (protected mode: a create whose reply was lost is found again, not
/// duplicated); list the children; if ours is first we hold the lock, otherwise `getData`-watch the
/// *immediate* predecessor only (no herd effect, FIFO order) and re-list when it changes.
///
/// **Connection-state contract** (watch ``LockLease/status``):
/// - `.suspended`: the lease is *uncertain* (``LeaseStatus/uncertain``): the session may be alive or not.
///   A ``withLock(timeout:_:)`` body is cancelled here under the default ``SuspensionPolicy/cancelOnSuspension``
///   (and the call throws ``LockError/leaseLost``); under ``SuspensionPolicy/cancelOnPresumedExpiry`` it runs on.
/// - `.reconnected`: the node's `ephemeralOwner` is checked; the lease is held again if it is ours.
/// - `.presumedExpired` or `.lost`: the lease is *lost* (``LeaseStatus/lost``) and
///   ``withLock(timeout:_:)`` cancels its body, then throws ``LockError/leaseLost``.
/// - Our lock node deleted from outside (an operator clearing a "stuck" lock; the lease watches its
///   own node while held): *lost*, as above. Our own release ends as ``LeaseStatus/released``.
///
/// Notable behaviours:
/// - **Reentrant** for the same owner: a nested `withLock` (or `acquire`) on the same client and path
///   inside a `withLock` body — in the same task or its child tasks — adds a local hold, no second node.
///   Every hold ends with the outermost `withLock`: a `Task {}` started in the body inherits the hold
///   (task-locals are copied into it) but cannot keep the lock past the body — its nested `withLock`
///   is cancelled and throws ``LockError/leaseLost`` when the outermost one returns.
///   A bare ``acquire(timeout:)`` outside any `withLock` is not reentrant (there is no owner to key it by).
/// - Timeouts, cancellation and errors delete the waiter's node before returning (no leaked contenders,
///   the kazoo#732 / CURATOR-315 class).
/// - Ownership is verified (CURATOR-604/696): a node that is first counts only if its `ephemeralOwner` is
///   our current session.
/// - Like Curator, every child of `path` is a contender: do not store other nodes under a lock path.
public struct DistributedMutex: Sendable {
    public let client: ZooKeeperClient
    /// The lock directory.
    public let path: ZNodePath
    /// The retry policy for the recipe's own ZooKeeper calls.
    public var retryPolicy: RetryPolicy
    /// When a ``withLock(timeout:_:)`` body is cancelled on a connection problem (default: on suspension).
    public var suspensionPolicy: SuspensionPolicy = .cancelOnSuspension

    /// The lock's name inside protected node names (Curator's `LOCK_NAME`).
    public static let lockName = "lock-"

    /// The name inside this lock's node names (`lock-`; `__READ__`/`__WRIT__` for a read/write lock's halves).
    let name: String
    /// How a contender decides it holds (the engine's policy) and how contenders sort.
    let turn: LockContenders.Turn
    let sortNames: [String]
    /// For a read lock: the write half, whose hold by the same owner lets a read be taken at once (downgrade).
    let downgradeFrom: HoldKey?

    public init(client: ZooKeeperClient, path: ZNodePath, retryPolicy: RetryPolicy = .standard) {
        // kazoo's Lock nodes count as contenders too (sorted by their sequence): we never take a lock a
        // kazoo process holds. (Default kazoo ignores ours; see recipes-docs/mutex.md for its side.)
        self.init(client: client, path: path, retryPolicy: retryPolicy, name: Self.lockName, turn: .leases,
                  sortNames: [Self.lockName, LockContenders.kazooLockName], downgradeFrom: nil)
    }

    init(
        client: ZooKeeperClient, path: ZNodePath, retryPolicy: RetryPolicy, name: String,
        turn: LockContenders.Turn, sortNames: [String], downgradeFrom: HoldKey?
    ) {
        self.client = client
        self.path = path
        self.retryPolicy = retryPolicy
        self.name = name
        self.turn = turn
        self.sortNames = sortNames
        self.downgradeFrom = downgradeFrom
    }

    struct HoldKey: Hashable, Sendable {
        var client: ObjectIdentifier
        var path: String
        var name: String
    }

    /// The leases held by the current task (and inherited by its child tasks).
    @TaskLocal static var heldLeases: [HoldKey: LockLease] = [:]

    var key: HoldKey { HoldKey(client: ObjectIdentifier(client), path: path.string, name: name) }

    private var contenders: LockContenders {
        LockContenders(client: client, directory: path, lockName: name, maxLeases: 1, retryPolicy: retryPolicy,
                       sortNames: sortNames, turn: turn)
    }

    /// Acquires the lock.
    ///
    /// - Parameter timeout: how long to wait; `nil` waits until acquired (or cancelled).
    /// - Returns: the lease; call ``LockLease/release()`` when done (prefer ``withLock(timeout:_:)``).
    /// - Throws: ``LockError/timedOut``, `CancellationError`, or a non-retryable ``ZooKeeperError``
    ///   (`.sessionExpired`, `.clientClosed`, …). No node is left behind in any of these cases.
    public func acquire(timeout: Duration? = nil) async throws -> LockLease {
        if let held = Self.heldLeases[key], held.retainIfHeld() { return held }
        if let downgradeFrom, let writer = Self.heldLeases[downgradeFrom], writer.isValid {
            let lease = LockLease(client: client, holding: try await downgrade(from: writer))
            lease.startMonitoring()
            return lease
        }
        let deadline = timeout.map { ContinuousClock.now + $0 }
        let holding = try await contenders.acquire(deadline: deadline)
        let lease = LockLease(client: client, holding: holding)
        lease.startMonitoring()
        return lease
    }

    /// Runs `body` while holding the lock; releases it afterwards, even when `body` throws or the
    /// task is cancelled.
    ///
    /// If the lease is lost while `body` runs (session presumed expired or lost, node deleted, or — under
    /// the default ``suspensionPolicy`` — the connection suspended), `body`'s task is cancelled and this
    /// throws ``LockError/leaseLost`` once `body` has returned. The client presumes expiry before any
    /// server may expire the session, so a body that honours cancellation has ended before another
    /// session can be granted the lock.
    public func withLock<T: Sendable>(
        timeout: Duration? = nil, _ body: @Sendable (LockLease) async throws -> T
    ) async throws -> T {
        let inherited = Self.heldLeases[key]
        let lease = try await acquire(timeout: timeout)
        // The outermost withLock owns the hold: when it ends, every hold it handed out ends with it,
        // including one taken by an unstructured `Task {}` that inherited the task-local and outlives
        // the body (its withLock body is cancelled, its lease reports `.released`).
        let outermost = lease !== inherited
        var held = Self.heldLeases
        held[key] = lease
        let result: Result<T, any Error>
        do {
            result = .success(try await withoutActuallyEscaping(body) { body in
                try await Self.$heldLeases.withValue(held) {
                    try await Self.run(body, with: lease, policy: suspensionPolicy)
                }
            })
        } catch {
            result = .failure(error)
        }
        if outermost { try await lease.releaseAll() } else { try await lease.release() }
        return try result.get()
    }

    /// Runs `body` in a child task that is cancelled if the lease is lost (or, by `policy`, suspended).
    static func run<T: Sendable>(
        _ body: @escaping @Sendable (LockLease) async throws -> T, with lease: LockLease,
        policy: SuspensionPolicy = .cancelOnSuspension
    ) async throws -> T {
        try await run({ try await body(lease) }, with: [lease], policy: policy)
    }

    /// Runs `body` in a child task that is cancelled if any of `leases` ends (they are released only
    /// after `body`, so ending means lost), or, by `policy`, when the connection is suspended.
    static func run<T: Sendable>(
        _ body: @escaping @Sendable () async throws -> T, with leases: [LockLease],
        policy: SuspensionPolicy = .cancelOnSuspension
    ) async throws -> T {
        if leases.isEmpty { return try await body() }  // nothing to lose (an empty multi-lock)
        // Subscribed before the body starts: the stream's first element is the state now.
        let states = policy == .cancelOnSuspension ? leases[0].client.connectionStates() : nil
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                await withTaskGroup(of: Void.self) { ends in
                    for lease in leases { ends.addTask { await lease.waitForEnd() } }
                    await ends.next()
                    ends.cancelAll()
                }
                return nil
            }
            if let states {
                group.addTask {
                    for await state in states where policy.cancelsBody(in: state) { return nil }
                    // The stream ended: the client terminated, which ends the leases too.
                    return nil
                }
            }
            defer { group.cancelAll() }
            let first = try await group.next()!
            if let value = first {
                return value
            }
            // The lease ended first: the body is cancelled by the deferred cancelAll; wait for it.
            group.cancelAll()
            _ = try? await group.next()
            throw LockError.leaseLost
        }
    }
}
