public import ZooKeeperClient

/// A barrier that holds any number of waiters until someone removes it: Curator's `DistributedBarrier`.
///
/// ```swift
/// let barrier = DistributedBarrier(client: zk, path: "/barriers/deploy")
/// try await barrier.setBarrier()          // coordinator
/// try await barrier.waitForRelease()      // workers: return once the coordinator removes it
/// try await barrier.removeBarrier()       // coordinator: releases every waiter
/// ```
///
/// **Layout**: the barrier *is* the node `<path>` (PERSISTENT, parents created). Compatible with
/// Curator's `DistributedBarrier` and kazoo's `Barrier` on the same path.
///
/// **Algorithm**: set = create `<path>`; wait = `exists` with a watch, return when the node is gone,
/// otherwise wait for the watch and check again; remove = delete `<path>`.
///
/// **Connection states**: a waiter keeps waiting through a suspension (its requests wait for the
/// reconnection; a watch lost with the connection is re-armed by the next `exists`); on session expiry
/// the wait throws the `sessionExpired` ``ZooKeeperError``.
///
/// Notable behaviours:
/// - Waiters are released by the node's *deletion*, not by an event they might miss: after every wake-up
///   the waiter re-reads, so a barrier set again at once (ABA) may keep a slow waiter waiting — as in Curator.
/// - Herd: every waiter watches the one node, so one removal notifies all of them; that is the point.
public struct DistributedBarrier: Sendable {
    public let client: ZooKeeperClient
    /// The barrier node.
    public let path: ZNodePath
    public var retryPolicy: RetryPolicy

    public init(client: ZooKeeperClient, path: ZNodePath, retryPolicy: RetryPolicy = .standard) {
        self.client = client
        self.path = path
        self.retryPolicy = retryPolicy
    }

    /// Sets the barrier (creates the node); setting a set barrier is not an error.
    public func setBarrier() async throws {
        if let parent = path.parent { try await RecipeSupport.ensurePath(client, parent, policy: retryPolicy) }
        do {
            _ = try await retrying(retryPolicy, client) { try await client.create(path) }
        } catch let error as ZooKeeperError where error.code == .nodeExists {
        }
    }

    /// Removes the barrier, releasing every waiter; removing an absent barrier is not an error.
    public func removeBarrier() async throws {
        do {
            try await retrying(retryPolicy, client) { try await client.delete(path) }
        } catch let error as ZooKeeperError where error.code == .noNode {
        }
    }

    /// Whether the barrier is set now.
    public func isSet() async throws -> Bool {
        try await retrying(retryPolicy, client) { try await client.exists(path) } != nil
    }

    /// Waits until the barrier is removed (returns at once if it is not set).
    ///
    /// - Parameter timeout: the longest wait; `nil` waits for ever (or until cancelled).
    /// - Throws: ``BarrierError/timedOut`` if `timeout` passed while the barrier was still set;
    ///   `CancellationError`; a non-retryable ``ZooKeeperError`` (session expiry).
    public func waitForRelease(timeout: Duration? = nil) async throws {
        let deadline = RecipeSupport.deadline(after: timeout)
        while true {
            try Task.checkCancellation()
            let (stat, watch) = try await retrying(retryPolicy, client) { try await client.existsWatching(path) }
            guard stat != nil else { return }
            do {
                guard try await RecipeSupport.wait(for: watch, until: deadline) else { throw BarrierError.timedOut }
            } catch let error as ZooKeeperError where error.isRecipeRetryable {
                // The watch died with the connection: re-arm it with the next exists.
            }
        }
    }
}
