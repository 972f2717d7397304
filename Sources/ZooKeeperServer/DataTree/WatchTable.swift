import ZooKeeperProtocol

/// How a watch behaves once registered (Apache's `WatcherMode`).
package enum WatcherMode: Sendable, Hashable {
    /// One-shot: removed when it fires.
    case standard
    /// `addWatch` PERSISTENT: fires every event on its path, stays.
    case persistent
    /// `addWatch` PERSISTENT_RECURSIVE: fires created/deleted/data-changed for the path and its whole
    /// subtree, never NodeChildrenChanged; stays.
    case persistentRecursive

    var isPersistent: Bool { self != .standard }
    var isRecursive: Bool { self == .persistentRecursive }
}

/// One of Apache's two `WatchManager`s (data watches, child watches), keyed by session instead of
/// connection. One mode per (session, path) within a table: registering again replaces the mode,
/// so a one-shot watch set on a path with a persistent watch of the same session turns it into a
/// one-shot in that table (3.8 behaviour; ZOOKEEPER-4466 changed it in 3.9).
package struct WatchTable: Sendable, Hashable {
    /// path → session → mode.
    package private(set) var byPath: [String: [Int64: WatcherMode]] = [:]
    /// session → paths.
    package private(set) var bySession: [Int64: Set<String>] = [:]
    private var recursiveCount = 0

    package init() {}

    /// The number of (path, session) pairs (`WatchManager.size`).
    package var count: Int { byPath.values.reduce(0) { $0 + $1.count } }

    @discardableResult
    package mutating func add(path: String, session: Int64, mode: WatcherMode = .standard) -> Bool {
        let old = byPath[path, default: [:]].updateValue(mode, forKey: session)
        if old?.isRecursive == true { recursiveCount -= 1 }
        if mode.isRecursive { recursiveCount += 1 }
        return bySession[session, default: []].insert(path).inserted
    }

    @discardableResult
    package mutating func remove(path: String, session: Int64) -> Bool {
        guard bySession[session]?.remove(path) != nil else { return false }
        if bySession[session]?.isEmpty == true { bySession[session] = nil }
        guard let mode = byPath[path]?.removeValue(forKey: session) else { return false }
        if mode.isRecursive { recursiveCount -= 1 }
        if byPath[path]?.isEmpty == true { byPath[path] = nil }
        return true
    }

    package mutating func removeSession(_ session: Int64) {
        for path in bySession[session] ?? [] {
            _ = remove(path: path, session: session)
        }
        bySession[session] = nil
    }

    package func mode(path: String, session: Int64) -> WatcherMode? {
        byPath[path]?[session]
    }

    /// `WatchManager.containsWatcher` (3.8) as `checkWatches` uses it: true when *any* session has a
    /// watch on exactly `path` in this table. Apache looks up the path's watcher set, not the asking
    /// connection's, and a recursive watch on an ancestor does not count (its mode is looked up on
    /// `path` itself). Found by the differential tests against Apache 3.8.
    package func hasWatchers(path: String) -> Bool {
        byPath[path]?.isEmpty == false
    }

    /// `WatchManager.triggerWatch`: the sessions to notify (ascending), consuming one-shot watches.
    /// Sessions in `suppress` lose their one-shot watch but are not returned.
    package mutating func trigger(path: String, type: EventType, suppress: Set<Int64> = []) -> [Int64] {
        var fired: Set<Int64> = []
        if let watchers = byPath[path] {
            for (session, mode) in watchers {
                if mode.isRecursive {
                    if type != .nodeChildrenChanged { fired.insert(session) }
                } else {
                    fired.insert(session)
                    if !mode.isPersistent { _ = remove(path: path, session: session) }
                }
            }
        }
        if recursiveCount > 0 && type != .nodeChildrenChanged {
            for ancestor in ancestors(of: path) {
                for (session, mode) in byPath[ancestor] ?? [:] where mode.isRecursive {
                    fired.insert(session)
                }
            }
        }
        return fired.subtracting(suppress).sorted()
    }

    /// `PathParentIterator`: the parents of a path up to and including "/".
    private func ancestors(of path: String) -> [String] {
        var result: [String] = []
        var current = path
        while current != "/", let parent = javaParentPath(current) {
            current = parent.isEmpty ? "/" : parent
            result.append(current)
        }
        return result
    }
}
