public import ZooKeeperClient

/// A local copy of one node, kept current by one persistent watch — Curator's `NodeCache`.
///
/// ```swift
/// let cache = NodeCache(client: zk, path: "/config/limits")
/// try await cache.start()
/// let limits: Limits? = try cache.value()
/// for await event in cache.events() { … }   // .initialized, .created / .changed / .deleted, .resynced
/// ```
///
/// It is a ``TreeCache`` restricted to `path` (a non-recursive `addWatch(.persistent)`; children are
/// ignored), with the same reconnect re-read and exactly-once guarantees. The node need not exist.
/// A ``LongLivedRecipe``: ``withStarted(_:)`` scopes ``start()`` and ``close()``.
public final class NodeCache: LongLivedRecipe {
    private let tree: TreeCache

    public var client: ZooKeeperClient { tree.client }
    public var path: ZNodePath { tree.path }

    public init(client: ZooKeeperClient, path: ZNodePath, retryPolicy: RetryPolicy = .standard) {
        tree = TreeCache(client: client, path: path, maxDepth: 0, retryPolicy: retryPolicy)
    }

    /// Adds the watch, reads the node, emits `.initialized` (empty if the node is absent).
    /// - Throws: as ``TreeCache/start()`` (``RecipeLifecycleError`` on a second call or after ``close()``).
    public func start() async throws { try await tree.start() }

    /// The node as last seen, or nil if it does not exist.
    public var current: ChildData? { tree.current(tree.path) }

    /// The node's data decoded as JSON, or nil if it does not exist (a typed config value).
    public func value<T: Decodable>(_ type: T.Type = T.self) throws -> T? { try current?.decode(T.self) }

    /// A new stream for this subscriber: `.initialized`, then every change; see ``TreeCache/events()``.
    public func events() -> AsyncStream<CacheEvent> { tree.events() }

    /// Stops following and finishes every event stream; see ``TreeCache/close()``.
    public func close() async { await tree.close() }
}
