public import ZooKeeperClient
import Synchronization

/// A local copy of a subtree, kept current by one persistent recursive watch — Curator's `CuratorCache`.
///
/// ```swift
/// let cache = TreeCache(client: zk, path: "/config")
/// let events = cache.events()
/// try await cache.start()
/// for await event in events { … }            // .initialized([…]), then .created / .changed / .deleted
/// let limits: Limits? = try cache.current("/config/limits")?.decode()
/// ```
///
/// **Algorithm**: `start` adds ONE `addWatch(path, .persistentRecursive)` *before* walking the subtree
/// (getData + getChildren per node), so no change falls between the walk and the watch. A single driver
/// task then applies watch events one at a time: created / data-changed → `getData` and compare `mzxid`
/// with the cached copy (an older or equal `mzxid` is a duplicate and is dropped); deleted → drop the node
/// and anything cached under it.
///
/// **Reconnects**: ZooKeeper does not replay persistent-watch events missed while disconnected, so on
/// `.reconnected` the driver re-walks the subtree, emits the differences (created / changed / deleted) and
/// then `.resynced`. Watch events already covered by the re-read are dropped by the `mzxid` check, so a
/// change is reported exactly once. On session loss, or ``close()``, every event stream finishes.
///
/// Notable behaviours:
/// - Events describe states, not writes: two writes in quick succession may show as one `.changed`
///   (with the newer data), as in Curator.
/// - Each ``events()`` stream starts with `.initialized` (the snapshot at subscription, once the first walk
///   is done) so a late subscriber is consistent.
/// - A ``LongLivedRecipe``: ``withStarted(_:)`` scopes ``start()`` and ``close()``.
public final class TreeCache: LongLivedRecipe {
    public let client: ZooKeeperClient
    public let path: ZNodePath
    public let retryPolicy: RetryPolicy
    /// How many levels below `path` are cached: 0 = `path` only (what ``NodeCache`` uses), 1 = its
    /// children (Curator's `PathChildrenCache` shape), `nil` = the whole subtree.
    public let maxDepth: Int?

    private struct State: TracksStart {
        var nodes: [ZNodePath: ChildData] = [:]
        var initialized = false
        var lifecycle = RecipeLifecycle()
        var closed: Bool { lifecycle.closed }
        var subscribers = Subscribers<CacheEvent>()
        var tasks: [Task<Void, Never>] = []
        /// The work of ``start()``, once called: ``close()`` waits for it before ending the tasks it stored.
        var starting: Task<Void, any Error>?
    }
    private let state = Mutex(State())
    private let closer = CloseOnce()

    private enum Input: Sendable {
        case watch(WatchedEvent)
        case connection(ConnectionState)
        case watchEnded
    }

    /// - Parameter maxDepth: levels below `path` to cache (`1`: `path` and its children); `nil`: all.
    ///   Deeper nodes are neither read nor reported (the server still sends their events).
    public init(client: ZooKeeperClient, path: ZNodePath, maxDepth: Int? = nil, retryPolicy: RetryPolicy = .standard) {
        self.client = client
        self.path = path
        self.maxDepth = maxDepth.map { max(0, $0) }
        self.retryPolicy = retryPolicy
    }

    deinit { state.withLock { state in for task in state.tasks { task.cancel() } } }

    /// Adds the watch, reads the subtree, emits `.initialized` and starts following changes.
    /// - Throws: ``RecipeLifecycleError/alreadyStarted`` on a second call, ``RecipeLifecycleError/closed``
    ///   after ``close()`` (also when ``close()`` ran while this start was still in progress); otherwise a
    ///   non-retryable ``ZooKeeperError`` from the watch or the first read.
    public func start() async throws {
        // The start's work runs in a task registered under the lock together with the lifecycle step, so a
        // concurrent close() finds it, cancels it and waits for it (and for the tasks it leaves behind).
        try await state.runStart { try await self.run() }
    }

    /// What ``start()`` does; if the cache closes meanwhile, it ends what it started before returning.
    private func run() async throws {
        let (inputs, input) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .unbounded)
        let states = client.connectionStates()
        let watch = try await retrying(retryPolicy, client) {
            try await client.addWatch(path, mode: maxDepth == 0 ? .persistent : .persistentRecursive)
        }
        let pumps = [
            Task {
                do { for try await event in watch { input.yield(.watch(event)) } } catch {}
                input.yield(.watchEnded)
            },
            Task {
                for await connection in states { input.yield(.connection(connection)) }
            },
        ]
        let snapshot: [ZNodePath: ChildData]
        do {
            snapshot = try await retrying(retryPolicy, client) { try await self.walk() }
        } catch {
            for pump in pumps { pump.cancel() }
            for pump in pumps { await pump.value }
            throw error
        }
        state.withLock { state in
            state.nodes = snapshot
            state.initialized = true
            state.subscribers.yield(.initialized(snapshot))
        }
        let driver = Task { [weak self] in
            for await next in inputs {
                guard let self, !Task.isCancelled else { return }
                if await !self.handle(next) { break }
            }
            self?.finish()
        }
        let closedMeanwhile = state.withLock { state in
            state.tasks = pumps + [driver]
            return state.closed
        }
        if closedMeanwhile {
            for task in finish() { await task.value }
        }
    }

    /// The cached node at `path`, if any.
    public func current(_ path: ZNodePath) -> ChildData? { state.withLock { $0.nodes[path] } }

    /// Every cached node.
    public var snapshot: [ZNodePath: ChildData] { state.withLock { $0.nodes } }

    /// A new stream for this subscriber: `.initialized` (the snapshot at subscription, once the first read is
    /// done), then every change, in order; finishes on ``close()`` or session loss.
    public func events() -> AsyncStream<CacheEvent> {
        Subscribers.stream(register: { continuation in
            state.withLock { state -> UInt64? in
                // Yielded under the lock (a non-blocking buffer append) so no change can slip in between.
                if state.initialized { continuation.yield(.initialized(state.nodes)) }
                return state.closed ? nil : state.subscribers.add(continuation)
            }
        }, remove: { [weak self] id in self?.state.withLock { $0.subscribers.remove(id) } })
    }

    /// Stops following (the watch is removed) and finishes every event stream. Idempotent; every call
    /// returns once the cache's tasks have ended.
    public func close() async {
        state.withLock { _ = $0.lifecycle.close() }
        await closer.run { [self] in
            // A start still in progress: stop it and let it finish storing (and ending) its tasks first.
            await state.stopStart()
            for task in finish() { await task.value }
        }
    }

    /// Marks the cache closed, cancels its tasks and finishes every event stream (also when the session is
    /// lost); returns the tasks, for ``close()`` to await.
    @discardableResult
    private func finish() -> [Task<Void, Never>] {
        let (tasks, subscribers) = state.withLock { state in
            state.lifecycle.close()
            defer { state.tasks = [] }
            return (state.tasks, state.subscribers.removeAll())
        }
        for task in tasks { task.cancel() }
        for subscriber in subscribers { subscriber.finish() }
        return tasks
    }

    // MARK: - Driver

    /// Returns false when the cache must stop.
    private func handle(_ input: Input) async -> Bool {
        switch input {
        case .watchEnded:
            return false
        case let .connection(connection):
            switch connection {
            case .lost: return false
            case .reconnected: await resync()
            default: break
            }
        case let .watch(event):
            guard let node = try? ZNodePath(event.path), covers(node) else { return true }
            if event.type == .nodeDeleted {
                apply(remove: node)
            } else if event.type == .nodeCreated || event.type == .nodeDataChanged {
                do {
                    let (data, stat) = try await client.getData(node)
                    apply(ChildData(path: node, data: data, stat: stat))
                } catch let error as ZooKeeperError where error.code == .noNode {
                    apply(remove: node)
                } catch {
                    // Connection trouble: the resync on `.reconnected` re-reads this node.
                }
            }
        }
        return true
    }

    private func covers(_ node: ZNodePath) -> Bool {
        node == path || (node.isDescendant(of: path) && maxDepth.map { depth(of: node) <= $0 } ?? true)
    }

    /// Levels of `node` below `path` (a descendant).
    private func depth(of node: ZNodePath) -> Int {
        node.string.dropFirst(path.string == "/" ? 0 : path.string.count).filter { $0 == "/" }.count
    }

    private func resync() async {
        guard let fresh = try? await walk() else { return }  // lost again: the next `.reconnected` retries
        state.withLock { state in
            var events: [CacheEvent] = []
            for (node, old) in state.nodes.sorted(by: { $0.key > $1.key }) where fresh[node] == nil {
                _ = old
                events.append(.deleted(node))
            }
            for (node, new) in fresh.sorted(by: { $0.key < $1.key }) {
                if let old = state.nodes[node] {
                    if old.stat.mzxid != new.stat.mzxid || old.stat.czxid != new.stat.czxid { events.append(.changed(new)) }
                } else {
                    events.append(.created(new))
                }
            }
            state.nodes = fresh
            events.append(.resynced)
            for event in events { state.subscribers.yield(event) }
        }
    }

    /// Records a fresh read; emits created/changed unless it is not newer than the cached copy.
    private func apply(_ data: ChildData) {
        state.withLock { state in
            let event: CacheEvent
            if let old = state.nodes[data.path] {
                guard data.stat.mzxid > old.stat.mzxid || data.stat.czxid != old.stat.czxid else { return }
                event = .changed(data)
            } else {
                event = .created(data)
            }
            state.nodes[data.path] = data
            state.subscribers.yield(event)
        }
    }

    /// Drops `node` and anything cached under it (deepest first).
    private func apply(remove node: ZNodePath) {
        state.withLock { state in
            let gone = state.nodes.keys.filter { $0 == node || $0.isDescendant(of: node) }.sorted(by: >)
            for path in gone {
                state.nodes[path] = nil
                state.subscribers.yield(.deleted(path))
            }
        }
    }

    /// Reads `path` and everything under it down to `maxDepth`. Nodes that vanish mid-walk are skipped.
    private func walk() async throws -> [ZNodePath: ChildData] {
        var result: [ZNodePath: ChildData] = [:]
        var pending = [path]
        while let node = pending.popLast() {
            do {
                let (data, stat) = try await client.getData(node)
                result[node] = ChildData(path: node, data: data, stat: stat)
                guard stat.numChildren > 0, maxDepth.map({ depth(of: node) < $0 }) ?? true else { continue }
                for child in try await client.getChildren(node) { pending.append(try node.appending(child)) }
            } catch let error as ZooKeeperError where error.code == .noNode {
                continue
            }
        }
        return result
    }
}
