public import ZooKeeperClient
import Synchronization

/// The instances of one service, kept current — Curator x-discovery's `ServiceCache`.
///
/// ```swift
/// let cache = try discovery.serviceCache(named: "api")
/// try await cache.start()
/// print(cache.instances)
/// for await snapshot in cache.snapshots() { print(snapshot.map(\.id)) }
/// ```
///
/// **Algorithm**: a ``TreeCache`` on `<basePath>/<name>` (one persistent recursive watch, then a read of
/// every instance node); each change it reports — an instance registered, unregistered, expired, or
/// **updated in place** (``ServiceDiscovery/update(_:)``, data only) — produces a new snapshot of the
/// decodable instances, sorted by id, published if it differs from the last one. The service node may
/// not exist yet: it is picked up when created.
///
/// **Connection states**: while suspended the snapshot may be stale; after the reconnection the tree is
/// re-read and the differences published. When the session is lost every ``snapshots()`` stream
/// finishes (a new cache on a new client is needed).
///
/// Notable behaviours:
/// - Snapshots coalesce: several changes close together may produce one snapshot.
/// - Instance nodes whose data does not decode (another service's format) are left out, as in Curator.
/// - Needs ZooKeeper 3.6+ (persistent watches).
/// - A ``LongLivedRecipe``: ``withStarted(_:)`` scopes ``start()`` and ``close()``.
public final class ServiceCache<Payload: Codable & Sendable>: LongLivedRecipe {
    public typealias Instance = ServiceInstance<Payload>

    public let client: ZooKeeperClient
    public let path: ZNodePath
    public let serializer: ServiceInstanceSerializer<Payload>
    public let retryPolicy: RetryPolicy

    private struct State: TracksStart {
        var instances: [Instance] = []
        var fingerprint: [[UInt8]]?
        var subscribers = Subscribers<[Instance]>()
        var tree: TreeCache?
        var loop: Task<Void, Never>?
        var lifecycle = RecipeLifecycle()
        var closed: Bool { lifecycle.closed }
        /// The work of ``start()``, once called: ``close()`` waits for it before stopping the tree and loop.
        var starting: Task<Void, any Error>?
    }
    private let state = Mutex(State())
    private let closer = CloseOnce()

    public init(
        client: ZooKeeperClient, path: ZNodePath, serializer: ServiceInstanceSerializer<Payload> = .init(),
        retryPolicy: RetryPolicy = .standard
    ) {
        self.client = client
        self.path = path
        self.serializer = serializer
        self.retryPolicy = retryPolicy
    }

    deinit {
        // The tree's own deinit cancels its tasks once the loop (which holds it) has ended.
        state.withLock { $0.loop?.cancel() }
    }

    /// Loads the instances and starts following them. ``instances`` is current when this returns.
    /// - Throws: ``RecipeLifecycleError/alreadyStarted`` on a second call, ``RecipeLifecycleError/closed``
    ///   after ``close()`` (also when ``close()`` ran while this start was still in progress); otherwise as
    ///   ``TreeCache/start()``.
    public func start() async throws {
        // The start's work runs in a task registered under the lock together with the lifecycle step, so a
        // concurrent close() finds it, cancels it and waits for it (and for the tree and loop it leaves behind).
        try await state.runStart { try await self.run() }
    }

    /// What ``start()`` does; if the cache closes meanwhile, it stops the tree and the loop before returning.
    private func run() async throws {
        let tree = TreeCache(client: client, path: path, maxDepth: 1, retryPolicy: retryPolicy)
        let events = tree.events()
        do {
            try await tree.start()
        } catch {
            await tree.close()
            throw error
        }
        publish(tree.snapshot)
        let task = Task { [weak self] in
            for await _ in events {
                guard let self, !Task.isCancelled else { return }
                self.publish(tree.snapshot)
            }
            self?.finishSubscribers()  // the tree ended: closed, or the session is lost
        }
        let closedMeanwhile = state.withLock { state in
            state.tree = tree
            state.loop = task
            return state.closed
        }
        if closedMeanwhile { await stop() }
    }

    /// The last snapshot, sorted by id.
    public var instances: [Instance] { state.withLock { $0.instances } }

    /// A new stream for this subscriber: the current snapshot, then every changed one; finishes on
    /// ``close()`` or session loss.
    public func snapshots() -> AsyncStream<[Instance]> {
        Subscribers.stream(bufferingPolicy: .bufferingNewest(16), register: { continuation in
            state.withLock { state in
                continuation.yield(state.instances)
                return state.closed ? nil : state.subscribers.add(continuation)
            }
        }, remove: { [weak self] id in self?.state.withLock { $0.subscribers.remove(id) } })
    }

    /// Re-reads every instance now, bypassing the cache's tree (the cache follows changes by itself;
    /// this is for a caller that wants a read it knows is fresh).
    public func refresh() async throws {
        let children: [String]
        do {
            children = try await retrying(retryPolicy, client) { try await client.getChildren(path) }
        } catch let error as ZooKeeperError where error.code == .noNode {
            children = []
        }
        publish(try await read(children))
    }

    /// Stops following and finishes every ``snapshots()`` stream. Idempotent; every call returns once the
    /// cache's tasks have ended.
    public func close() async {
        state.withLock { _ = $0.lifecycle.close() }
        await closer.run { [self] in
            // A start still in progress: stop it and let it finish storing (and stopping) the tree first.
            await state.stopStart()
            await stop()
        }
    }

    /// Closes the tree, ends the loop and finishes every stream.
    private func stop() async {
        let (tree, loop) = state.withLock { state in
            state.lifecycle.close()
            defer { state.tree = nil; state.loop = nil }
            return (state.tree, state.loop)
        }
        loop?.cancel()
        await tree?.close()
        await loop?.value
        finishSubscribers()
    }

    /// Marks the cache closed and finishes every ``snapshots()`` stream (also when the session is lost).
    private func finishSubscribers() {
        let subscribers = state.withLock { state in
            state.lifecycle.close()
            return state.subscribers.removeAll()
        }
        for subscriber in subscribers { subscriber.finish() }
    }

    // MARK: - Internals

    private func read(_ children: [String]) async throws -> [Instance] {
        try await ServiceDiscovery<Payload>.readChildren(client: client, path: path, children: children,
                                                         serializer: serializer, policy: retryPolicy)
    }

    /// Publishes the instances among `nodes` (the service's direct children).
    private func publish(_ nodes: [ZNodePath: ChildData]) {
        let instances = nodes.values.filter { $0.path.parent == path }.sorted { $0.path.name < $1.path.name }
            .compactMap { try? serializer.deserialize($0.data) }  // another format: not an instance (as Curator)
        publish(instances)
    }

    private func publish(_ instances: [Instance]) {
        let fingerprint = instances.map { (try? serializer.serialize($0)) ?? [] }
        state.withLock { state in
            guard state.fingerprint != fingerprint else { return }
            state.fingerprint = fingerprint
            state.instances = instances
            // Under the lock, so every subscriber sees snapshots in the order they were taken.
            state.subscribers.yield(instances)
        }
    }
}
