public import ZooKeeperClient
import Synchronization

/// A 32-bit integer shared through one node, with a local cached copy kept current by a watch and a
/// stream of changes — Curator's `SharedCount`.
///
/// ```swift
/// let shared = SharedCount(client: zk, path: "/config/max-workers", seedValue: 4)
/// try await shared.start()
/// let current = shared.versionedValue!
/// if try await shared.trySetCount(expected: current, newValue: current.value + 1) { … }
/// for await value in shared.changes() { print("now", value) }
/// ```
///
/// **Layout**: `<path>` (PERSISTENT, created with `seedValue` if absent) holding 4 big-endian bytes —
/// byte-compatible with Curator's `SharedCount` and kazoo's `Counter(support_curator=True)`.
///
/// **Algorithm**: `start` creates the node if needed, then a background loop `getData`-watches it and
/// updates the cached ``VersionedValue``; every change of value is yielded to ``changes()``.
/// ``trySetCount(expected:newValue:)`` is `setData(version: expected.version)`: it succeeds only if
/// nobody wrote since `expected` was read.
///
/// **Connection states**: while suspended the cached value may be stale; after a reconnection the loop
/// re-reads (so a missed change is picked up); on session expiry the loop ends and ``changes()`` finishes.
/// If the node is deleted, the loop waits for it to be recreated and follows the new node (whose
/// version starts over).
///
/// Notable behaviours:
/// - ``changes()`` yields values, not every write: two writes between reads may coalesce, and a write
///   of the same value yields nothing (as Curator's listener).
/// - Call ``close()`` when done: the follower task keeps the count alive (and its watch armed) until then.
/// - A ``LongLivedRecipe``: ``withStarted(_:)`` scopes ``start()`` and ``close()``.
public final class SharedCount: LongLivedRecipe {
    public let client: ZooKeeperClient
    public let path: ZNodePath
    public let seedValue: Int32
    public let retryPolicy: RetryPolicy

    private struct State: TracksStart {
        var current: VersionedValue<Int32>?
        /// The cached value's node (its `czxid`): a deleted and recreated node starts its version over.
        var czxid: Int64 = 0
        var subscribers = Subscribers<Int32>()
        var loop: Task<Void, Never>?
        var lifecycle = RecipeLifecycle()
        var closed: Bool { lifecycle.closed }
        /// The work of ``start()``, once called: ``close()`` waits for it before ending the follower.
        var starting: Task<Void, any Error>?
    }
    private let state = Mutex(State())
    private let closer = CloseOnce()

    public init(client: ZooKeeperClient, path: ZNodePath, seedValue: Int32, retryPolicy: RetryPolicy = .standard) {
        self.client = client
        self.path = path
        self.seedValue = seedValue
        self.retryPolicy = retryPolicy
    }

    deinit { state.withLock { $0.loop?.cancel() } }

    /// Creates the node with the seed if it does not exist, reads it, and starts following it.
    /// - Throws: ``RecipeLifecycleError/alreadyStarted`` on a second call, ``RecipeLifecycleError/closed``
    ///   after ``close()`` (also when ``close()`` ran while this start was still in progress); otherwise a
    ///   non-retryable ``ZooKeeperError`` (or bad data) from the first read.
    public func start() async throws {
        // The start's work runs in a task registered under the lock together with the lifecycle step, so a
        // concurrent close() finds it, cancels it and waits for it (and for the follower it leaves behind).
        try await state.runStart { try await self.run() }
    }

    /// What ``start()`` does; if the count closes meanwhile, it ends the follower before returning.
    private func run() async throws {
        if let parent = path.parent { try await RecipeSupport.ensurePath(client, parent, policy: retryPolicy) }
        do {
            _ = try await retrying(retryPolicy, client) {
                try await client.create(path, data: CounterCoding.bytes(of: seedValue))
            }
        } catch let error as ZooKeeperError where error.code == .nodeExists {
        }
        let (data, stat, watch) = try await retrying(retryPolicy, client) { try await client.getDataWatching(path) }
        apply(VersionedValue(version: stat.version, value: try CounterCoding.int32(from: data)), czxid: stat.czxid)
        let task = Task { [weak self] in
            guard let self else { return }
            await self.follow(first: watch)
        }
        let closedMeanwhile = state.withLock { state in
            state.loop = task
            return state.closed
        }
        if closedMeanwhile { await finish()?.value }
    }

    /// The last value seen (`seedValue` before ``start()``).
    public var count: Int32 { state.withLock { $0.current?.value } ?? seedValue }

    /// The last value seen with its version: pass it to ``trySetCount(expected:newValue:)``.
    public var versionedValue: VersionedValue<Int32>? { state.withLock { $0.current } }

    /// Sets the value unconditionally.
    public func setCount(_ newValue: Int32) async throws {
        let stat = try await retrying(retryPolicy, client) {
            try await client.setData(path, data: CounterCoding.bytes(of: newValue))
        }
        apply(VersionedValue(version: stat.version, value: newValue), czxid: stat.czxid)
    }

    /// Sets `newValue` only if the node is still at `expected.version` (compare-and-set).
    ///
    /// - Returns: `true` if written; `false` if someone wrote since `expected` was read (re-read
    ///   ``versionedValue`` or ``read()`` and try again).
    /// - Throws: the `connectionLoss` ``ZooKeeperError`` if the outcome is unknown.
    public func trySetCount(expected: VersionedValue<Int32>, newValue: Int32) async throws -> Bool {
        do {
            let stat = try await client.setData(path, data: CounterCoding.bytes(of: newValue), version: expected.version)
            apply(VersionedValue(version: stat.version, value: newValue), czxid: stat.czxid)
            return true
        } catch let error as ZooKeeperError where error.code == .badVersion {
            return false
        }
    }

    /// Reads the node now (bypassing the cache) and updates the cache.
    @discardableResult
    public func read() async throws -> VersionedValue<Int32> {
        let (data, stat) = try await retrying(retryPolicy, client) { try await client.getData(path) }
        let value = VersionedValue(version: stat.version, value: try CounterCoding.int32(from: data))
        apply(value, czxid: stat.czxid)
        return value
    }

    /// A new stream for this subscriber: the current value (once ``start()`` has read it), then every new
    /// value; finishes when the count is closed or the session is lost.
    public func changes() -> AsyncStream<Int32> {
        Subscribers.stream(register: { continuation in
            state.withLock { state -> UInt64? in
                // Under the lock (a buffer append) so no change can slip in between.
                if let current = state.current { continuation.yield(current.value) }
                return state.closed ? nil : state.subscribers.add(continuation)
            }
        }, remove: { [weak self] id in self?.state.withLock { $0.subscribers.remove(id) } })
    }

    /// Stops following the node and finishes every ``changes()`` stream. Idempotent; every call returns once
    /// the follower task has ended.
    public func close() async {
        state.withLock { _ = $0.lifecycle.close() }
        await closer.run { [self] in
            // A start still in progress: stop it and let it finish storing (and ending) the follower first.
            await state.stopStart()
            await finish()?.value
        }
    }

    /// Marks the count closed, cancels the follower and finishes every stream (also when the session is
    /// lost); returns the follower, for ``close()`` to await.
    @discardableResult
    private func finish() -> Task<Void, Never>? {
        let (loop, subscribers) = state.withLock { state in
            state.lifecycle.close()
            defer { state.loop = nil }
            return (state.loop, state.subscribers.removeAll())
        }
        loop?.cancel()
        for subscriber in subscribers { subscriber.finish() }
        return loop
    }

    // MARK: - Internals

    /// Records a value if it is newer than the cached one; yields it if the value changed.
    ///
    /// Newer means: of a newer node (larger `czxid`: the node was deleted and recreated, and its version
    /// started over), or of the same node with a larger version.
    private func apply(_ value: VersionedValue<Int32>, czxid: Int64) {
        state.withLock { state in
            if let current = state.current {
                if czxid < state.czxid { return }  // a late reply about a node since replaced
                if czxid == state.czxid, current.version >= value.version { return }
            }
            state.czxid = czxid
            let changed = state.current.map { $0.value != value.value } ?? false
            state.current = value
            // Under the lock, so subscribers see values in version order.
            if changed { state.subscribers.yield(value.value) }
        }
    }

    private func follow(first: OneShotWatch) async {
        var watch: OneShotWatch? = first
        var failures = 0
        while !Task.isCancelled {
            do {
                if let armed = watch { _ = try await armed.event() }
                do {
                    let (data, stat, next) = try await client.getDataWatching(path)
                    watch = next
                    apply(VersionedValue(version: stat.version, value: try CounterCoding.int32(from: data)), czxid: stat.czxid)
                } catch let error as ZooKeeperError where error.code == .noNode {
                    // Deleted: wait for it to be created again (its version starts over: see `apply`);
                    // created meanwhile: read it at once.
                    let (stat, created) = try await client.existsWatching(path)
                    watch = stat == nil ? created : nil
                }
                failures = 0
            } catch let error as ZooKeeperError where error.isRecipeRetryable {
                // Connection lost (the watch died with it): re-read after a pause.
                watch = nil
                try? await Task.sleep(for: RetryPolicy.forever.delay(beforeRetry: min(failures, 5)))
                failures += 1
            } catch {
                break  // session over, closed, cancelled, bad data
            }
        }
        if !Task.isCancelled { finish() }
    }
}
