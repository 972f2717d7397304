public import ZooKeeperClient

/// A distributed counting semaphore: at most ``maxLeases`` leases held at a time, across all sessions.
/// Curator's `InterProcessSemaphoreV2`, znode for znode.
///
/// ```swift
/// let slots = DistributedSemaphore(client: zk, path: "/semaphores/crawlers", maxLeases: 4)
/// try await slots.withLease(timeout: .seconds(10)) { lease in try await crawl() }
/// ```
///
/// **Layout**: `<path>/locks/_c_<uuid>-lock-<seq>` (an internal ``DistributedMutex``) and
/// `<path>/leases/_c_<uuid>-lease-<seq>` (one ephemeral-sequential, protected node per lease).
///
/// **Algorithm**: take the internal mutex; create a lease node; `getChildren`-watch `leases` until it
/// has at most `maxLeases` children; release the mutex. Any holder's release can admit the waiter (not
/// only its predecessor's). Only the mutex holder watches the leases directory, and every other waiter
/// watches only its predecessor in `locks`, so no release wakes a herd. A lease is released by deleting
/// its node (guaranteed delete). Both directories run on the locks' contender engine.
///
/// Notable behaviours:
/// - All participants must agree on `maxLeases` (as in Curator, nothing enforces it).
/// - Leases are ``LockLease`` values: fencing token (the lease node's `czxid`), the connection-state
///   contract of ``DistributedMutex`` (uncertain on suspended, lost on expiry), release from any task.
/// - Timeouts, cancellation and errors delete the lease nodes created so far and release the internal
///   mutex (the CURATOR-315 orphaned-lease class cannot happen: nodes are protected and deleted).
/// - A lease node that vanished or belongs to an older session is replaced, never counted as ours
///   (CURATOR-604/696).
/// - Not reentrant: each acquire takes a new lease.
public struct DistributedSemaphore: Sendable {
    /// The client the semaphore uses.
    public let client: ZooKeeperClient
    /// The semaphore directory (holding `locks` and `leases`).
    public let path: ZNodePath
    /// How many leases may be held at a time.
    public let maxLeases: Int
    /// The retry policy for the recipe's own ZooKeeper calls.
    public var retryPolicy: RetryPolicy
    /// When a ``withLease(timeout:_:)`` body is cancelled on a connection problem (default: on suspension).
    public var suspensionPolicy: SuspensionPolicy = .cancelOnSuspension

    /// Curator's `LEASE_BASE_NAME`.
    public static let leaseName = "lease-"

    /// A semaphore on `path` with `maxLeases` leases (every participant must use the same number).
    ///
    /// - Precondition: `maxLeases > 0`.
    public init(client: ZooKeeperClient, path: ZNodePath, maxLeases: Int, retryPolicy: RetryPolicy = .standard) {
        precondition(maxLeases > 0, "a semaphore needs at least one lease")
        self.client = client
        self.path = path
        self.maxLeases = maxLeases
        self.retryPolicy = retryPolicy
    }

    /// The `leases` directory.
    public var leasesPath: ZNodePath { (try? path.appending("leases")) ?? path }
    /// The internal mutex's directory.
    public var locksPath: ZNodePath { (try? path.appending("locks")) ?? path }

    /// Acquires one lease.
    ///
    /// - Throws: ``LockError/timedOut``, `CancellationError`, or a non-retryable ``ZooKeeperError``.
    ///   No node is left behind in any of these cases.
    public func acquire(timeout: Duration? = nil) async throws -> LockLease {
        try await acquire(1, timeout: timeout)[0]
    }

    /// Acquires `count` leases together (all or none).
    ///
    /// - Precondition: `1 <= count <= maxLeases`.
    public func acquire(_ count: Int, timeout: Duration? = nil) async throws -> [LockLease] {
        precondition(count > 0 && count <= maxLeases, "acquire between 1 and maxLeases leases")
        let deadline = timeout.map { ContinuousClock.now + $0 }
        let internalMutex = DistributedMutex(client: client, path: locksPath, retryPolicy: retryPolicy)
        let mutexLease = try await internalMutex.acquire(timeout: timeout)
        var holdings: [LockContenders.Holding] = []
        do {
            while holdings.count < count { holdings.append(try await leases.acquire(deadline: deadline)) }
        } catch {
            for holding in holdings.reversed() {
                await GuaranteedDelete.run(client: client, path: holding.path, waitUntil: GuaranteedDelete.bound(after: deadline))
            }
            try await mutexLease.release()
            throw error
        }
        try await mutexLease.release()
        return holdings.map { holding in
            let lease = LockLease(client: client, holding: holding)
            lease.startMonitoring()
            return lease
        }
    }

    /// Runs `body` while holding one lease; releases it afterwards. If the lease is lost while `body`
    /// runs (or, under the default ``suspensionPolicy``, the connection is suspended), `body` is cancelled
    /// and this throws ``LockError/leaseLost``.
    public func withLease<T: Sendable>(
        timeout: Duration? = nil, _ body: @Sendable (LockLease) async throws -> T
    ) async throws -> T {
        let lease = try await acquire(timeout: timeout)
        let result: Result<T, any Error>
        do {
            result = .success(try await withoutActuallyEscaping(body) { body in
                try await DistributedMutex.run(body, with: lease, policy: suspensionPolicy)
            })
        } catch {
            result = .failure(error)
        }
        try await lease.release()
        return try result.get()
    }

    /// The engine on the `leases` directory: a lease node holds while the directory has at most
    /// `maxLeases` children (Curator's count); a waiter watches the whole directory.
    private var leases: LockContenders {
        LockContenders(client: client, directory: leasesPath, lockName: Self.leaseName, maxLeases: maxLeases,
                       retryPolicy: retryPolicy, turn: .count)
    }
}

/// A non-reentrant distributed mutex: a ``DistributedSemaphore`` with one lease (Curator's
/// `InterProcessSemaphoreMutex`).
///
/// Unlike ``DistributedMutex`` a nested acquire by the same owner waits like any other contender (and
/// so times out or deadlocks): use it when a hold must not be shared with child tasks.
/// Layout: `<path>/locks/…-lock-<seq>` and `<path>/leases/…-lease-<seq>`, as Curator's.
public struct DistributedSemaphoreMutex: Sendable {
    /// The one-lease semaphore underneath.
    public let semaphore: DistributedSemaphore

    /// A semaphore mutex on `path` (Curator's layout: `path/locks`, `path/leases`).
    public init(client: ZooKeeperClient, path: ZNodePath, retryPolicy: RetryPolicy = .standard) {
        semaphore = DistributedSemaphore(client: client, path: path, maxLeases: 1, retryPolicy: retryPolicy)
    }

    /// Acquires the mutex; see ``DistributedSemaphore/acquire(timeout:)``.
    public func acquire(timeout: Duration? = nil) async throws -> LockLease {
        try await semaphore.acquire(timeout: timeout)
    }

    /// Runs `body` while holding the mutex; see ``DistributedSemaphore/withLease(timeout:_:)``.
    public func withLock<T: Sendable>(
        timeout: Duration? = nil, _ body: @Sendable (LockLease) async throws -> T
    ) async throws -> T {
        try await semaphore.withLease(timeout: timeout, body)
    }
}
