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
/// - Each lock keeps its own reentrancy rules (``DistributedMutex`` inside a `withLock` body is reentrant).
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
    public func withLock<T: Sendable>(
        timeout: Duration? = nil, _ body: @Sendable (MultiLease) async throws -> T
    ) async throws -> T {
        let lease = try await acquire(timeout: timeout)
        let result: Result<T, any Error>
        do { result = .success(try await body(lease)) } catch { result = .failure(error) }
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
