public import ZooKeeperClient

/// A lock that hands out a ``LockLease``: what ``DistributedMultiLock`` combines.
public protocol DistributedLock: Sendable {
    /// Acquires the lock, waiting at most `timeout` (`nil`: until acquired or cancelled).
    func acquire(timeout: Duration?) async throws -> LockLease
}

extension DistributedMutex: DistributedLock {}
extension DistributedSemaphoreMutex: DistributedLock {}

/// Several locks taken as one (Curator's `InterProcessMultiLock`).
///
/// ```swift
/// let both = DistributedMultiLock([DistributedMutex(client: zk, path: "/locks/a"),
///                                  DistributedMutex(client: zk, path: "/locks/b")])
/// try await both.withLock(timeout: .seconds(5)) { _ in try await transfer() }
/// ```
///
/// Notable behaviours:
/// - Locks are acquired in the order given and released in reverse order. Give every process the
///   same order, or two multi-locks can deadlock (until their timeouts).
/// - All or nothing: if any acquire fails (timeout, cancellation, error), the ones already held are
///   released (in reverse order) before the error is thrown.
/// - The timeout bounds the whole acquisition, not each lock.
/// - Each lock keeps its own reentrancy rules: a member ``DistributedMutex`` taken again inside a
///   `withLock` body (of this multi-lock or of the mutex) is reentrant; a ``DistributedSemaphoreMutex`` is not.
/// - If any lease is lost while a `withLock` body runs, the body is cancelled (``LockError/leaseLost``).
public struct DistributedMultiLock: Sendable {
    /// The locks, in acquisition order.
    public let locks: [any DistributedLock]

    /// Combines `locks`, acquired in this order.
    public init(_ locks: [any DistributedLock]) {
        self.locks = locks
    }

    /// Mutexes on each of `paths`, in that order.
    public init(client: ZooKeeperClient, paths: [ZNodePath], retryPolicy: RetryPolicy = .standard) {
        locks = paths.map { DistributedMutex(client: client, path: $0, retryPolicy: retryPolicy) }
    }

    /// Acquires every lock in order; on failure releases those held, in reverse, and rethrows.
    public func acquire(timeout: Duration? = nil) async throws -> MultiLease {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        var leases: [LockLease] = []
        do {
            for lock in locks {
                let remaining = deadline.map { max(.zero, $0 - ContinuousClock.now) }
                leases.append(try await lock.acquire(timeout: remaining))
            }
        } catch {
            await MultiLease(leases: leases).releaseAll()
            throw error
        }
        return MultiLease(leases: leases)
    }

    /// Runs `body` while holding every lock; releases them (in reverse order) afterwards, even when
    /// `body` throws.
    ///
    /// Like ``DistributedMutex/withLock(timeout:_:)``: a nested `withLock` or `acquire` of a member
    /// ``DistributedMutex`` (same client and path) inside `body` is reentrant, and if any lease is lost
    /// while `body` runs, `body`'s task is cancelled and this throws ``LockError/leaseLost`` once
    /// `body` has returned.
    public func withLock<T: Sendable>(
        timeout: Duration? = nil, _ body: @Sendable (MultiLease) async throws -> T
    ) async throws -> T {
        let lease = try await acquire(timeout: timeout)
        // Record the mutexes' leases as a mutex's withLock does (semaphore mutexes are not reentrant).
        var held = DistributedMutex.heldLeases
        for (lock, member) in zip(locks, lease.leases) {
            if let mutex = lock as? DistributedMutex { held[mutex.key] = member }
        }
        let result: Result<T, any Error>
        do {
            result = .success(try await withoutActuallyEscaping(body) { body in
                try await DistributedMutex.$heldLeases.withValue(held) {
                    try await DistributedMutex.run({ try await body(lease) }, with: lease.leases)
                }
            })
        } catch {
            result = .failure(error)
        }
        try await lease.release()
        return try result.get()
    }
}

/// The leases of a ``DistributedMultiLock``, in acquisition order.
public struct MultiLease: Sendable {
    /// One lease per lock, in acquisition order.
    public let leases: [LockLease]

    /// Whether every lease is held for certain now.
    public var isValid: Bool { leases.allSatisfy(\.isValid) }

    /// Releases every lease, in reverse order of acquisition.
    public func release() async throws {
        await releaseAll()
    }

    func releaseAll() async {
        for lease in leases.reversed() {
            // LockLease.release does not throw today; keep releasing the rest if that ever changes.
            do { try await lease.release() } catch {}
        }
    }
}
