public import ZooKeeperClient
import Synchronization

/// The instances of one service, kept current by a children watch — Curator x-discovery's `ServiceCache`.
///
/// ```swift
/// let cache = try discovery.serviceCache(named: "api")
/// try await cache.start()
/// print(cache.instances)
/// for await snapshot in cache.snapshots() { print(snapshot.map(\.id)) }
/// ```
///
/// **Algorithm**: `getChildren`-with-watch on `<basePath>/<name>`, then `getData` of every child; the
/// snapshot (sorted by id) is published if it differs from the last one; when the watch fires, repeat.
/// If the service node does not exist yet, an `exists` watch waits for it.
///
/// **Connection states**: while suspended the snapshot may be stale; the client re-registers the watch
/// on reconnection, so changes made meanwhile are seen. When the session is lost the loop ends and every
/// ``snapshots()`` stream finishes (a new cache on a new client is needed).
///
/// Notable behaviours:
/// - Membership changes (register, unregister, session expiry of an ephemeral instance) are followed.
///   An ``ServiceDiscovery/update(_:)`` of an existing instance changes only its data, which a
///   children watch does not report: it is seen at the next membership change or ``refresh()``.
/// - Snapshots coalesce: several changes between two reads produce one snapshot.
public final class ServiceCache<Payload: Codable & Sendable>: Sendable {
    public typealias Instance = ServiceInstance<Payload>

    public let client: ZooKeeperClient
    public let path: ZNodePath
    public let serializer: ServiceInstanceSerializer<Payload>
    public let retryPolicy: RetryPolicy

    private struct State {
        var instances: [Instance] = []
        var fingerprint: [[UInt8]]?
        var subscribers = Subscribers<[Instance]>()
        var loop: Task<Void, Never>?
        var closed = false
    }
    private let state = Mutex(State())

    public init(
        client: ZooKeeperClient, path: ZNodePath, serializer: ServiceInstanceSerializer<Payload> = .init(),
        retryPolicy: RetryPolicy = .standard
    ) {
        self.client = client
        self.path = path
        self.serializer = serializer
        self.retryPolicy = retryPolicy
    }

    deinit { state.withLock { $0.loop?.cancel() } }

    /// Loads the instances and starts following them. ``instances`` is current when this returns.
    public func start() async throws {
        let watch = try await load()
        let task = Task { [weak self] in
            guard let self else { return }
            await self.follow(first: watch)
        }
        state.withLock { $0.loop = task }
    }

    /// The last snapshot, sorted by id.
    public var instances: [Instance] { state.withLock { $0.instances } }

    /// The current snapshot, then every changed one; finishes on ``close()`` or session loss.
    public func snapshots() -> AsyncStream<[Instance]> {
        let (stream, continuation) = AsyncStream.makeStream(of: [Instance].self, bufferingPolicy: .bufferingNewest(16))
        let id: UInt64? = state.withLock { state in
            continuation.yield(state.instances)
            return state.closed ? nil : state.subscribers.add(continuation)
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.removeOnTermination { [weak self] in self?.state.withLock { $0.subscribers.remove(id) } }
        return stream
    }

    /// Re-reads every instance now (picks up data-only updates).
    public func refresh() async throws {
        let children: [String]
        do {
            children = try await retrying(retryPolicy, client) { try await client.getChildren(path) }
        } catch let error as ZooKeeperError where error.code == .noNode {
            children = []
        }
        publish(try await read(children))
    }

    /// Stops following and finishes every ``snapshots()`` stream.
    public func close() {
        let (loop, subscribers) = state.withLock { state in
            state.closed = true
            defer { state.loop = nil }
            return (state.loop, state.subscribers.removeAll())
        }
        loop?.cancel()
        for subscriber in subscribers { subscriber.finish() }
    }

    // MARK: - Internals

    private func read(_ children: [String]) async throws -> [Instance] {
        try await ServiceDiscovery<Payload>.readChildren(client: client, path: path, children: children,
                                                         serializer: serializer, policy: retryPolicy)
    }

    /// Reads the snapshot and arms a watch.
    private func load() async throws -> OneShotWatch {
        while true {
            do {
                let (children, _, watch) = try await retrying(retryPolicy, client) {
                    try await client.getChildrenWatching(path)
                }
                publish(try await read(children))
                return watch
            } catch let error as ZooKeeperError where error.code == .noNode {
                let (stat, watch) = try await retrying(retryPolicy, client) { try await client.existsWatching(path) }
                if stat != nil { continue }  // created meanwhile: read it
                publish([])
                return watch
            }
        }
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

    private func follow(first: OneShotWatch) async {
        var watch = first
        var retries = 0
        while !Task.isCancelled {
            do {
                _ = try await watch.event()
                watch = try await load()
                retries = 0
            } catch let error as ZooKeeperError where error.isRecipeRetryable {
                if case .lost = client.connectionState { break }
                try? await Task.sleep(for: retryPolicy.delay(beforeRetry: min(retries, 5)))
                retries += 1
                if let rearmed = try? await load() { watch = rearmed }
            } catch {
                break
            }
        }
        if !Task.isCancelled { close() }
    }
}
