import Foundation
public import ZooKeeperClient

/// A double barrier: `memberCount` members enter together, compute, and leave together — Curator's
/// `DistributedDoubleBarrier`, znode for znode.
///
/// ```swift
/// let barrier = DistributedDoubleBarrier(client: zk, path: "/barriers/job-7", memberCount: 5)
/// try await barrier.enter()   // returns once 5 members have entered
/// try await work()
/// try await barrier.leave()   // returns once all 5 have left
/// ```
///
/// **Layout** (Curator's): `<path>/<uuid>` — one EPHEMERAL node per member — and `<path>/ready`, created
/// by the member that completes the group.
///
/// **Enter**: `exists`-watch `<path>/ready`, create our node, count the children; if there are at least
/// `memberCount`, create `ready` (racing creators are fine). Otherwise wait for the watch on `ready`.
///
/// **Leave** (herd-avoiding, Curator's `internalLeave`): list the members sorted; if only ours is left,
/// delete it and finish. The *lowest* member watches the *highest*; every other member deletes its own
/// node and watches the lowest. So a departure wakes one member, not all of them
/// (ZooKeeper's recipe, ZOOKEEPER-1011). A member whose node is gone waits on the lowest remaining node
/// until none is left. Finally `ready` is deleted.
///
/// **Connection states**: a suspension is ridden out (requests wait for the reconnection, watches are
/// re-armed by re-reading). A session expiry removes our ephemeral node — the group can then not complete —
/// and the call throws the `sessionExpired` ``ZooKeeperError``.
///
/// Notable behaviours:
/// - Members are counted by children, so do not store other nodes under `path`.
/// - A timed-out ``enter(timeout:)`` leaves our node in place (as Curator does): call ``leave(timeout:)``
///   to take it away, or close the session.
/// - A timed-out or cancelled ``leave(timeout:)`` still deletes our node: we have left, we only stopped
///   waiting for the others, and a node left behind would hold them (they wait on the lowest member) until
///   their own timeouts. Curator 5.4 leaves the lowest member's node in that case.
public final class DistributedDoubleBarrier: Sendable {
    public let client: ZooKeeperClient
    /// The barrier directory.
    public let path: ZNodePath
    /// How many members complete the group.
    public let memberCount: Int
    public let retryPolicy: RetryPolicy
    /// This member's node, `<path>/<uuid>`.
    public let ourPath: ZNodePath
    /// `<path>/ready`.
    public let readyPath: ZNodePath

    /// The name of the node that marks a complete group (Curator's `READY_NODE`).
    public static let readyNodeName = "ready"

    public init(client: ZooKeeperClient, path: ZNodePath, memberCount: Int, retryPolicy: RetryPolicy = .standard) {
        precondition(memberCount > 0, "a double barrier needs at least one member")
        self.client = client
        self.path = path
        self.memberCount = memberCount
        self.retryPolicy = retryPolicy
        // A lowercase UUID is always a valid node name.
        ourPath = try! path.appending(UUID().uuidString.lowercased())
        readyPath = try! path.appending(Self.readyNodeName)
    }

    /// Enters the barrier: returns once `memberCount` members have entered.
    ///
    /// - Parameter timeout: the longest wait; `nil` waits until the group is complete or the task is cancelled.
    /// - Throws: ``BarrierError/timedOut`` if `timeout` passed first (our node stays: call
    ///   ``leave(timeout:)`` or close the session); `CancellationError`; a non-retryable ``ZooKeeperError``.
    public func enter(timeout: Duration? = nil) async throws {
        let deadline = RecipeSupport.deadline(after: timeout)
        var (ready, watch) = try await retrying(retryPolicy, client) { try await client.existsWatching(readyPath) }
        try await createOurNode()
        while ready == nil {
            try Task.checkCancellation()
            let children = try await retrying(retryPolicy, client) { try await client.getChildren(path) }
            if children.count >= memberCount {
                do {
                    _ = try await retrying(retryPolicy, client) { try await client.create(readyPath) }
                } catch let error as ZooKeeperError where error.code == .nodeExists {
                }
                return
            }
            do {
                guard try await RecipeSupport.wait(for: watch, until: deadline) else { throw BarrierError.timedOut }
            } catch let error as ZooKeeperError where error.isRecipeRetryable {
            }
            (ready, watch) = try await retrying(retryPolicy, client) { try await client.existsWatching(readyPath) }
        }
    }

    /// Leaves the barrier: returns once every member has left.
    ///
    /// Our node is deleted whether or not the others leave in time (also on cancellation), so they can
    /// still finish leaving.
    ///
    /// - Parameter timeout: the longest wait; `nil` waits until all have left or the task is cancelled.
    /// - Throws: ``BarrierError/timedOut`` if `timeout` passed first (our node is deleted all the same);
    ///   ``BarrierError/ourNodeMissing`` if our node vanished while others remain (our session was
    ///   replaced), ``BarrierError/lastNodeNotOurs``; `CancellationError`; a non-retryable ``ZooKeeperError``.
    public func leave(timeout: Duration? = nil) async throws {
        let deadline = RecipeSupport.deadline(after: timeout)
        var ourNodeShouldExist = true
        let result: Bool
        do {
            result = try await leaveLoop(deadline: deadline, ourNodeShouldExist: &ourNodeShouldExist)
        } catch {
            // Whatever stopped us (cancellation, a failure), our node must not hold the others.
            if ourNodeShouldExist { await GuaranteedDelete.run(client: client, path: ourPath) }
            throw error
        }
        do {
            try await retrying(retryPolicy, client) { try await client.delete(readyPath) }
        } catch let error as ZooKeeperError where error.code == .noNode {
        }
        if !result { throw BarrierError.timedOut }
    }

    /// The leave protocol; `false` at `deadline` (our node deleted then too).
    private func leaveLoop(deadline: ContinuousClock.Instant?, ourNodeShouldExist: inout Bool) async throws -> Bool {
        let ourName = ourPath.name
        while true {
            try Task.checkCancellation()
            var children: [String]
            do {
                children = try await retrying(retryPolicy, client) { try await client.getChildren(path) }
            } catch let error as ZooKeeperError where error.code == .noNode {
                children = []
            }
            children = children.filter { $0 != Self.readyNodeName }.sorted()
            if children.isEmpty { break }
            let ourIndex = children.firstIndex(of: ourName)
            if ourIndex == nil, ourNodeShouldExist { throw BarrierError.ourNodeMissing(ourPath.string) }
            if children == [ourName] {
                try await deleteOurNode(true)
                ourNodeShouldExist = false
                break
            }
            let watched: ZNodePath
            if ourIndex == 0 {
                watched = try path.appending(children[children.count - 1])  // the lowest waits on the highest
            } else if ourIndex == nil {
                // Ours is gone: wait on the lowest until no one is left (not just until one node is left:
                // after a member's timed-out leave, the last node may be a member that has not left yet).
                watched = try path.appending(children[0])
            } else {
                watched = try path.appending(children[0])  // the others go, and wait on the lowest
                try await deleteOurNode(ourNodeShouldExist)
                ourNodeShouldExist = false
            }
            let (stat, watch) = try await retrying(retryPolicy, client) { try await client.existsWatching(watched) }
            guard stat != nil else { continue }
            do {
                guard try await RecipeSupport.wait(for: watch, until: deadline) else {
                    // We stop waiting, but we have left: our node must not block the others.
                    try await deleteOurNode(ourNodeShouldExist)
                    ourNodeShouldExist = false
                    return false
                }
            } catch let error as ZooKeeperError where error.isRecipeRetryable {
            }
        }
        return true
    }

    private func createOurNode() async throws {
        while true {
            do {
                _ = try await retrying(retryPolicy, client) { try await client.create(ourPath, mode: .ephemeral) }
                return
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                return  // a retried create that had succeeded
            } catch let error as ZooKeeperError where error.code == .noNode {
                try await RecipeSupport.ensurePath(client, path, policy: retryPolicy)
            }
        }
    }

    private func deleteOurNode(_ shouldExist: Bool) async throws {
        guard shouldExist else { return }
        do {
            try await retrying(retryPolicy, client) { try await client.delete(ourPath) }
        } catch let error as ZooKeeperError where error.code == .noNode {
        }
    }
}
