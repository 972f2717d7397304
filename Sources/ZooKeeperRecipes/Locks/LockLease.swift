import Synchronization
import ZooKeeperClient

/// Why a lock operation failed (besides ``ZooKeeperError`` and `CancellationError`).
public enum LockError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The lock was not acquired within the timeout; no node was left behind.
    case timedOut
    /// The lease was lost while held (session presumed expired or lost, or the lock node vanished):
    /// ``DistributedMutex/withLock(timeout:_:)`` throws this when its body was cancelled for that reason.
    case leaseLost
    /// `directory` has had 2,147,483,647 child creations: ZooKeeper's sequence numbers (signed 32-bit)
    /// no longer order contenders (Apache repeats `2147483647`, or wraps to `-2147483648`), so the
    /// acquire refused rather than risk two holders. No node was left behind. Recreate the directory
    /// (a lock directory is a container: once empty the server removes it and its count starts over).
    case sequenceExhausted(directory: String)

    public var description: String {
        switch self {
        case .timedOut: return "the lock was not acquired within the timeout"
        case .leaseLost: return "the lock's lease was lost while it was held"
        case .sequenceExhausted(let directory):
            return "\(directory) has used up ZooKeeper's 32-bit sequence numbers: contenders can no longer be ordered; delete and recreate it"
        }
    }
}

/// What a lock holder can currently assume about its lease.
public enum LeaseStatus: Sendable, Hashable {
    /// Held: the connection is up and the lock node belongs to our session.
    case held
    /// The connection is suspended: the session (and so the lock) may still be alive, or not.
    /// Stop doing work that needs exclusion, or guard it with the fencing token.
    case uncertain
    /// The lease is gone: the session was (presumed) expired or the node was deleted.
    case lost
    /// Released by its holder.
    case released
}

/// A held lock: the node, a fencing token, and how the holder learns the lease was lost.
///
/// Notable behaviours:
/// - ``fencingToken`` is the lock node's `czxid`: ZooKeeper's transaction ids only grow, so each new
///   holder's token is larger than every earlier holder's. A resource that remembers the largest token
///   it has seen can refuse a stale holder (Kleppmann's fencing).
/// - ``release()`` may be called from any task (no thread or task affinity, unlike Curator's
///   CURATOR-347). It is *guaranteed*: the delete is retried through connection loss until the node
///   is gone or the session is (CURATOR-678: local state is dropped only after that).
/// - For a reentrant hold (nested ``DistributedMutex/withLock(timeout:_:)``), each release undoes one
///   hold; the node is deleted when the last one is released.
public final class LockLease: Sendable {
    /// The lock node's path, e.g. `/locks/orders/_c_…-lock-0000000042`.
    public let path: ZNodePath
    /// The lock node's creation zxid; strictly increasing across successive holders.
    public let fencingToken: Int64
    /// The session that holds the lock.
    public let sessionID: Int64

    let client: ZooKeeperClient
    private let state: Mutex<State>
    private let statusContinuation: AsyncStream<LeaseStatus>.Continuation
    private let statusStream: AsyncStream<LeaseStatus>
    private let nextWaiter = Atomic<UInt64>(0)

    private struct State {
        var status = LeaseStatus.held
        var holds = 1
        /// The connection-state follower and the watcher of our own node.
        var monitors: [Task<Void, Never>] = []
        var lostWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    init(client: ZooKeeperClient, holding: LockContenders.Holding) {
        self.client = client
        path = holding.path
        fencingToken = holding.czxid
        sessionID = holding.sessionID
        state = Mutex(State())
        (statusStream, statusContinuation) = AsyncStream.makeStream(of: LeaseStatus.self, bufferingPolicy: .unbounded)
        statusContinuation.yield(.held)
    }

    /// The current status.
    public var status: LeaseStatus { state.withLock { $0.status } }

    /// Whether the lease is held for certain now (`status == .held`).
    public var isValid: Bool { status == .held }

    /// Every status change, starting with `.held`; finishes after `.lost` or `.released`.
    /// Single consumer.
    public var statusChanges: AsyncStream<LeaseStatus> { statusStream }

    /// Returns when the lease is lost or released (at once if it already is), or when the task is cancelled.
    @available(*, deprecated, renamed: "waitForEnd()")
    public func waitUntilEnded() async { await waitForEnd() }

    /// Returns when the lease is lost or released (at once if it already is), or when the task is cancelled.
    public func waitForEnd() async {
        let id = nextWaiter.add(1, ordering: .relaxed).newValue
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ended = state.withLock { state -> Bool in
                    if state.status == .lost || state.status == .released || Task.isCancelled { return true }
                    state.lostWaiters[id] = continuation
                    return false
                }
                if ended { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.lostWaiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

    /// Releases one hold; the last one deletes the lock node (guaranteed delete).
    ///
    /// - Throws: nothing today; `throws` leaves room for reporting a delete that cannot succeed.
    public func release() async throws {
        let last = state.withLock { state -> Bool in
            guard state.holds > 0 else { return false }
            state.holds -= 1
            return state.holds == 0
        }
        guard last else { return }
        client.configuration.logHandler.log(.debug, "lock \(path): releasing (\(status))")
        // A lost lease's node is already being deleted in the background (see `abandonNode`): do not
        // block the caller until a server is reachable again.
        if status == .lost { return }
        await GuaranteedDelete.run(client: client, path: path)
        finish(.released)
    }

    /// Ends every hold at once (the outermost `withLock` returning): reentrant holds handed to tasks
    /// that outlive it end too.
    func releaseAll() async throws {
        let held = state.withLock { state -> Bool in
            guard state.holds > 0 else { return false }
            state.holds = 1
            return true
        }
        if held { try await release() }
    }

    // MARK: - Internal

    /// Adds a reentrant hold if the lease is still held locally.
    func retainIfHeld() -> Bool {
        state.withLock { state in
            guard state.holds > 0, state.status == .held || state.status == .uncertain else { return false }
            state.holds += 1
            return true
        }
    }

    /// Follows the client's connection states (see ``DistributedMutex`` for the contract) and watches
    /// our node, so a delete from outside (an operator clearing a "stuck" lock) ends the lease.
    func startMonitoring() {
        let states = client.connectionStates()
        let task = Task.detached { [weak self] in
            for await connection in states {
                guard let self else { return }
                switch connection {
                case .suspended:
                    self.update(.uncertain)
                case .presumedExpired, .lost:
                    self.finish(.lost)
                    return
                case .connected, .reconnected:
                    guard self.status == .uncertain else { continue }
                    // Same session (a new one would be .lost first): check the node is still ours.
                    let owned: Bool
                    do {
                        let stat = try await self.client.exists(self.path)
                        owned = stat?.ephemeralOwner == self.sessionID
                    } catch {
                        continue  // connection lost again: the next state decides
                    }
                    if owned {
                        self.update(.held)
                    } else if !self.isReleasing {
                        self.finish(.lost)
                        return
                    }  // else our own release deleted the node: it finishes as .released
                case .connecting, .readOnly:
                    self.update(.uncertain)
                }
                if Task.isCancelled { return }
            }
        }
        let tasks = [task, watchNode()]
        let keep = state.withLock { state -> Bool in
            guard state.status == .held || state.status == .uncertain else { return false }
            state.monitors = tasks
            return true
        }
        if !keep { for task in tasks { task.cancel() } }
    }

    /// Watches our node while held (as LeaderLatch watches its own): deleted by anyone but our own
    /// release, the lease is lost. The watch survives reconnects (the client re-registers it).
    private func watchNode() -> Task<Void, Never> {
        // Captures only values, not the lease: a lease dropped without release is not kept alive by it.
        let client = client, path = path, sessionID = sessionID
        return Task.detached { [weak self] in
            while !Task.isCancelled {
                do {
                    // Disconnected: the connection monitor reports the state; re-armed once back.
                    let (_, stat, watch) = try await retrying(.sessionUpkeep, client) {
                        try await client.getDataWatching(path)
                    }
                    // Ours only if our session owns it (another's cannot take the name: it is unique).
                    if stat.ephemeralOwner != sessionID { break }
                    if try await watch.event().type == .nodeDeleted { break }
                    // A data change (someone wrote to a lock node): re-arm.
                } catch let error as ZooKeeperError where error.code == .noNode {
                    break
                } catch let error as ZooKeeperError where error.isRecipeRetryable && !client.connectionState.isLost {
                    // The watch died with the connection: re-arm it.
                } catch {
                    return  // session over (the connection monitor reports it), cancelled, closed
                }
            }
            if !Task.isCancelled { self?.nodeGone() }
        }
    }

    /// Our node is gone: lost, unless our own release deleted it (that finishes as `.released`).
    private func nodeGone() {
        if !isReleasing { finish(.lost) }
    }

    /// The last hold was released and the node's delete is under way.
    private var isReleasing: Bool { state.withLock { $0.holds == 0 } }

    private func update(_ status: LeaseStatus) {
        let changed = state.withLock { state -> Bool in
            guard state.status == .held || state.status == .uncertain, state.status != status else { return false }
            state.status = status
            return true
        }
        if changed {
            client.configuration.logHandler.log(.debug, "lock \(path): \(status)")
            statusContinuation.yield(status)
        }
    }

    func finish(_ status: LeaseStatus) {
        let outcome = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>], [Task<Void, Never>]) in
            guard state.status == .held || state.status == .uncertain else { return (false, [], []) }
            state.status = status
            if status == .released { state.holds = 0 }
            defer { state.lostWaiters = [:]; state.monitors = [] }
            return (true, Array(state.lostWaiters.values), state.monitors)
        }
        guard outcome.0 else { return }
        client.configuration.logHandler.log(.debug, "lock \(path): \(status)")
        for monitor in outcome.2 { monitor.cancel() }
        if status == .lost { abandonNode() }
        statusContinuation.yield(status)
        statusContinuation.finish()
        for waiter in outcome.1 { waiter.resume() }
    }

    /// The least time a lost lease's node is looked after (see ``abandonNode()``).
    static let abandonedNodeWindow = Duration.seconds(60)

    /// Deletes the node of a lease lost while our session may still live, in the background.
    ///
    /// After `.presumedExpired` the same session can come back (the server never expired it), and our
    /// ephemeral node with it: left behind it would block every other contender for the session's
    /// lifetime. Best effort and bounded: deletes the node once a server answers, if it is still our
    /// session's; gives up when the session ends or after 4 session timeouts (at least
    /// ``abandonedNodeWindow``).
    private func abandonNode() {
        let client = client, path = path, sessionID = sessionID
        let window = max(Self.abandonedNodeWindow, (client.session?.timeout ?? .zero) * 4)
        Task.detached {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await Self.deleteIfOwned(client: client, path: path, sessionID: sessionID) }
                group.addTask { try? await Task.sleep(for: window) }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Deletes `path` if `sessionID` (still the client's session) owns it; retries connection loss.
    static func deleteIfOwned(client: ZooKeeperClient, path node: ZNodePath, sessionID: Int64) async {
        do {
            try await retrying(.sessionUpkeep, client) {
                try Task.checkCancellation()
                // Another session, or none: ours is over, and its ephemerals went with it.
                guard client.session?.id == sessionID else { return }
                guard let stat = try await client.exists(node), stat.ephemeralOwner == sessionID else { return }
                try await client.delete(node)  // the name is unique: checked ours, it stays ours
            }
        } catch {
            return  // gone (noNode), session over or lost, client closed, cancelled
        }
    }
}
