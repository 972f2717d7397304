public import ZooKeeperClient

/// A FIFO queue shared by any number of producers and consumers, one item per sequential node —
/// Curator's `SimpleDistributedQueue` algorithm with `DistributedQueue`'s `queue-` naming.
///
/// ```swift
/// struct Order: Codable, Sendable { var id: Int }
/// let queue = DistributedQueue<Order>(client: zk, path: "/queues/orders")
/// try await queue.put(Order(id: 1))
/// let next = try await queue.take()            // waits for an item
/// let maybe = try await queue.poll()           // nil when empty
/// ```
///
/// **Layout**: `<path>/queue-<seq>` (PERSISTENT_SEQUENTIAL; `<path>` created PERSISTENT). The data is the
/// item's encoding (``QueueSerializer``: JSON, raw bytes, or Curator's framing). Children not starting with `queue-` are
/// ignored.
///
/// **Algorithm**: `put` = sequential create. `take` = `getChildren` *with a watch*, sort by name (the
/// 10-digit sequence, so creation order), then for the lowest child `getData` and a transaction
/// `[delete <item>, create EPHEMERAL <path>/receipts/<item>]`; a `noNode` means another consumer won it,
/// so try the next child. When no child is left, wait for the children watch — no polling. The receipt
/// (deleted right after) is how a consumer whose reply was lost to a connection drop learns whether its
/// transaction committed: Curator's `SimpleDistributedQueue` cannot tell and may lose the item.
///
/// **Guarantees**: an item is taken by at most one consumer (the delete decides: exactly one delete of
/// a node succeeds); items are taken in creation order, so each producer's items stay in order.
/// A consumer's session expiring loses nothing: an item is removed only by a successful delete.
///
/// Notable behaviours (Curator TN4: "ZooKeeper makes a very bad queue source"):
/// - **Herd**: every waiting consumer watches the queue directory, so one put wakes all of them (as in
///   Curator and kazoo); they race for the lowest node and the losers retry the next.
/// - A waiter that skipped an item claimed by ``process(timeout:_:)`` also watches that claim: when the
///   processing body throws or its session ends, the claim goes (the queue's children do not change)
///   and the waiter wakes to take the item.
/// - **Connection loss during a take**: resolved by the receipt, so the item is neither lost nor taken
///   twice — the receipt is asked for until the answer comes, however long the outage (not bounded by
///   ``retryPolicy``). Only a *session expiry* in the instant between the transaction and its reply leaves the
///   outcome unknown (the receipt dies with the session); the take then throws `sessionExpired` and that
///   item may be gone. A `put` whose reply is lost and is retried may enqueue the item twice.
/// - The `receipts` child is not an item (only `queue-` children are); other clients consuming the same
///   path must ignore it too.
/// - An item that fails to decode never blocks the items behind it: it is handled by ``errorMode``
///   (default: requeued at the tail), logged, and the take goes on with the next item.
public struct DistributedQueue<Item: Sendable>: Sendable {
    public let client: ZooKeeperClient
    /// The queue directory.
    public let path: ZNodePath
    public let serializer: QueueSerializer<Item>
    public var retryPolicy: RetryPolicy
    /// What happens to an item that does not decode, or whose ``process(timeout:_:)`` body throws.
    public var errorMode: QueueErrorMode
    /// This consumer's consecutive body failures (shared by copies of this value): its backoff.
    let failures = FailureStreak()

    /// The item node prefix (Curator's `DistributedQueue.QUEUE_PREFIX`).
    public static var nodePrefix: String { "queue-" }

    /// The child directory holding take receipts (see the class notes).
    public static var receiptsNodeName: String { "receipts" }

    /// - Parameters:
    ///   - retryPolicy: retries of connection loss; also the backoff of a consumer whose items keep failing.
    ///   - errorMode: see ``QueueErrorMode``; `.requeue` (Curator's default) loses nothing.
    public init(
        client: ZooKeeperClient, path: ZNodePath, serializer: QueueSerializer<Item>, retryPolicy: RetryPolicy = .standard,
        errorMode: QueueErrorMode = .requeue
    ) {
        self.client = client
        self.path = path
        self.serializer = serializer
        self.retryPolicy = retryPolicy
        self.errorMode = errorMode
    }

    /// Adds `item` at the tail. Returns the item's node path.
    @discardableResult
    public func put(_ item: Item) async throws -> String {
        try await put(item, namePrefix: Self.nodePrefix)
    }

    func put(_ item: Item, namePrefix: String) async throws -> String {
        let data = try serializer.encode(item)
        let node = try ZNodePath(path.string + "/" + namePrefix, sequentialPrefix: true)
        var createdPath = false
        while true {
            do {
                return try await retrying(retryPolicy, client) {
                    try await client.create(node, data: data, mode: .persistentSequential)
                }
            } catch let error as ZooKeeperError where error.code == .noNode && !createdPath {
                createdPath = true
                try await RecipeSupport.ensurePath(client, path, policy: retryPolicy)
            }
        }
    }

    /// Removes and returns the head item, or `nil` if the queue is empty.
    public func poll() async throws -> Item? {
        for child in try await sortedChildren() {
            if case .done(let item) = try await takeNode(child) { return item }
        }
        return nil
    }

    /// Returns the head item without removing it, or `nil` if the queue is empty.
    public func peek() async throws -> Item? {
        for child in try await sortedChildren() {
            do {
                let node = try path.appending(child)
                let (data, _) = try await retrying(retryPolicy, client) { try await client.getData(node) }
                do {
                    return try serializer.decode(data)
                } catch {
                    continue  // what a take would move out of the way
                }
            } catch let error as ZooKeeperError where error.code == .noNode {
                continue  // taken meanwhile
            }
        }
        return nil
    }

    /// Removes and returns the head item, waiting for one if the queue is empty.
    ///
    /// - Parameter timeout: the longest wait; `nil` waits until an item comes or the task is cancelled.
    /// - Returns: the item.
    /// - Throws: ``QueueError/timedOut`` if `timeout` passed first (nothing was taken); `CancellationError`;
    ///   a non-retryable ``ZooKeeperError`` — session expiry: nothing was taken, unless its message says the
    ///   item "may be lost" (the session ended while a lost reply was unresolved).
    public func take(timeout: Duration? = nil) async throws -> Item {
        guard let item = try await take(deadline: RecipeSupport.deadline(after: timeout), notBefore: { _ in nil }) else {
            throw QueueError.timedOut
        }
        return item
    }

    /// The take loop. `notBefore(child)` says how long until a child may be taken (`nil` or ≤ 0: now);
    /// children are sorted so that none after a not-yet-due child is due.
    func take(deadline: ContinuousClock.Instant?, notBefore: (String) -> Duration?) async throws -> Item? {
        try await firstTaken(deadline: deadline, notBefore: notBefore) { try await takeNode($0) }
    }

    /// Offers each due child, in queue order, to `attempt` until one returns a value; waits for the
    /// children watch (or the next due time) when none does. `nil` at `deadline`.
    func firstTaken<Result>(
        deadline: ContinuousClock.Instant?, notBefore: (String) -> Duration?,
        attempt: (String) async throws -> QueueAttempt<Result>
    ) async throws -> Result? {
        var failedPasses = 0
        while true {
            try Task.checkCancellation()
            let children: [String]
            let watch: OneShotWatch
            do {
                (children, _, watch) = try await retrying(retryPolicy, client) { try await client.getChildrenWatching(path) }
            } catch let error as ZooKeeperError where error.code == .noNode {
                try await RecipeSupport.ensurePath(client, path, policy: retryPolicy)
                continue
            }
            var wakeUp = deadline
            var skipped: [String] = []
            var failed = false
            for child in Self.sorted(children) {
                if let delay = notBefore(child), delay > .zero {
                    // Not due yet: wake when it is (or on a change), whichever comes first.
                    let due = ContinuousClock.now.advanced(by: delay)
                    wakeUp = wakeUp.map { min($0, due) } ?? due
                    break
                }
                switch try await attempt(child) {
                case .done(let result): return result
                case .skipped: skipped.append(child)
                case .failed: failed = true  // moved out of the way: go on with the next
                }
            }
            if failed, errorMode == .requeue {
                // Only failing items this pass, and requeued ones come straight back: back off, then list again.
                let pause = ContinuousClock.now.advanced(by: retryPolicy.delay(beforeRetry: failedPasses))
                failedPasses += 1
                try await Task.sleep(until: deadline.map { min($0, pause) } ?? pause, clock: .continuous)
                if let deadline, ContinuousClock.now >= deadline { return nil }
                continue
            }
            if !failed { failedPasses = 0 }
            do {
                // A skipped item may be claimed by a processing consumer: if its body throws or its
                // session ends, the claim goes but the queue's children do not change. Watch the claims.
                guard let claimWatches = try await watchClaims(of: skipped) else { continue }  // one already went
                if try await RecipeSupport.wait(forAny: [watch] + claimWatches, until: wakeUp) == false,
                   let deadline, ContinuousClock.now >= deadline {
                    return nil
                }
            } catch let error as ZooKeeperError where error.isRecipeRetryable {
                // The watch died with the connection: the next getChildren re-arms it.
            }
        }
    }

    /// `getData`-watches the claim (`receipts/<item>`) of each skipped item; `nil` if one has no claim
    /// (gone meanwhile: list again at once — the item is gone too, or free to take).
    private func watchClaims(of skipped: [String]) async throws -> [OneShotWatch]? {
        let receipts = try path.appending(Self.receiptsNodeName)
        var watches: [OneShotWatch] = []
        for child in skipped {
            let claim = try receipts.appending(child)
            do {
                watches.append(try await retrying(retryPolicy, client) { try await client.getDataWatching(claim) }.watch)
            } catch let error as ZooKeeperError where error.code == .noNode {
                return nil
            }
        }
        return watches
    }

    /// How many items are queued now.
    public func count() async throws -> Int { try await sortedChildren().count }

    // MARK: - Internals

    /// Item node names in queue order (names sort as their sequence numbers do: 10 zero-padded digits;
    /// for the priority queue the priority prefix comes first).
    static func sorted(_ children: [String]) -> [String] {
        children.filter { $0.hasPrefix(nodePrefix) }.sorted()
    }

    func sortedChildren() async throws -> [String] {
        do {
            return Self.sorted(try await retrying(retryPolicy, client) { try await client.getChildren(path) })
        } catch let error as ZooKeeperError where error.code == .noNode {
            return []
        }
    }
}

extension DistributedQueue where Item: Codable & SendableMetatype {
    /// A queue of `Codable` items stored as JSON.
    public init(client: ZooKeeperClient, path: ZNodePath, retryPolicy: RetryPolicy = .standard, errorMode: QueueErrorMode = .requeue) {
        self.init(client: client, path: path, serializer: .json, retryPolicy: retryPolicy, errorMode: errorMode)
    }
}
