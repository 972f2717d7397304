import ZooKeeperProtocol

/// The kinds of watch the client keeps, as the Java client's `ZKWatchManager` does.
enum WatchKind: Hashable, Sendable {
    case data, exist, child, persistent, persistentRecursive
}

/// A sink for persistent-watch events.
struct PersistentSink: Sendable {
    let id: UInt64
    let continuation: AsyncThrowingStream<WatchedEvent, any Error>.Continuation
}

/// What firing a watch means, computed under the client's lock and performed outside it.
enum WatchDelivery: Sendable {
    case oneShot(OneShotWatchBox, WatchedEvent)
    case persistent(PersistentSink, WatchedEvent)
    case failOneShot(OneShotWatchBox, ZooKeeperError)
    case finishPersistent(PersistentSink, ZooKeeperError?)
}

/// Every armed watch, keyed by *server* path (chroot included) and kind.
///
/// One server-side watch per path and kind, however many local waiters: re-registration after a
/// reconnect sends each path once, like the Java client.
struct WatchRegistry: Sendable {
    private var oneShot: [WatchKind: [String: [OneShotWatchBox]]] = [:]
    private var persistent: [WatchKind: [String: [PersistentSink]]] = [:]

    var isEmpty: Bool { oneShot.values.allSatisfy(\.isEmpty) && persistent.values.allSatisfy(\.isEmpty) }

    var hasPersistentWatches: Bool { persistent.values.contains { !$0.isEmpty } }

    mutating func add(_ box: OneShotWatchBox, kind: WatchKind, path: String) {
        oneShot[kind, default: [:]][path, default: []].append(box)
    }

    mutating func add(_ sink: PersistentSink, kind: WatchKind, path: String) {
        persistent[kind, default: [:]][path, default: []].append(sink)
    }

    /// Removes one persistent sink; returns whether no watch of any kind is left on `path`.
    mutating func removePersistent(id: UInt64, path: String) -> (removed: PersistentSink?, pathIsFree: Bool) {
        var removed: PersistentSink?
        for kind in [WatchKind.persistent, .persistentRecursive] {
            guard var sinks = persistent[kind]?[path] else { continue }
            if let index = sinks.firstIndex(where: { $0.id == id }) {
                removed = sinks.remove(at: index)
                persistent[kind]?[path] = sinks.isEmpty ? nil : sinks
            }
        }
        return (removed, !hasAnyWatch(on: path))
    }

    func hasAnyWatch(on path: String) -> Bool {
        oneShot.values.contains { $0[path] != nil } || persistent.values.contains { $0[path] != nil }
    }

    /// Removes local watches of `type` on `path` and returns what to tell their owners: one-shot
    /// watches fire with `dataWatchRemoved` / `childWatchRemoved`, persistent ones finish.
    mutating func remove(path: String, type: WatcherType, clientPath: String) -> [WatchDelivery] {
        let kinds: [WatchKind]
        switch type {
        case .children: kinds = [.child]
        case .data: kinds = [.data, .exist]
        case .any: kinds = [.data, .exist, .child, .persistent, .persistentRecursive]
        case .persistent: kinds = [.persistent]
        case .persistentRecursive: kinds = [.persistentRecursive]
        }
        var deliveries: [WatchDelivery] = []
        for kind in kinds {
            let removal = WatchedEvent(type: kind == .child ? .childWatchRemoved : .dataWatchRemoved,
                                       state: .syncConnected, path: clientPath)
            for box in oneShot[kind]?.removeValue(forKey: path) ?? [] { deliveries.append(.oneShot(box, removal)) }
            for sink in persistent[kind]?.removeValue(forKey: path) ?? [] {
                deliveries.append(.finishPersistent(sink, nil))
            }
        }
        return deliveries
    }

    /// Which watches an event triggers (the Java client's `materialize`), removing fired one-shot watches.
    mutating func trigger(_ event: WatcherEvent, clientPath: String) -> [WatchDelivery] {
        let type = EventType(rawValue: event.type)
        let delivered = WatchedEvent(type: type, state: KeeperState(rawValue: event.state), path: clientPath)
        let path = event.path
        var kinds: [WatchKind] = []
        switch type {
        case .nodeCreated, .nodeDataChanged: kinds = [.data, .exist]
        case .nodeChildrenChanged: kinds = [.child]
        case .nodeDeleted: kinds = [.data, .exist, .child]
        default: kinds = []
        }
        var deliveries: [WatchDelivery] = []
        for kind in kinds {
            for box in oneShot[kind]?.removeValue(forKey: path) ?? [] { deliveries.append(.oneShot(box, delivered)) }
        }
        guard type != .none else { return deliveries }
        for sink in persistent[.persistent]?[path] ?? [] { deliveries.append(.persistent(sink, delivered)) }
        if type != .nodeChildrenChanged, let recursive = persistent[.persistentRecursive], !recursive.isEmpty {
            var ancestor: String? = path
            while let current = ancestor {
                for sink in recursive[current] ?? [] { deliveries.append(.persistent(sink, delivered)) }
                ancestor = Self.parent(of: current)
            }
        }
        return deliveries
    }

    /// Ends every watch (session over).
    mutating func failAll(_ error: ZooKeeperError) -> [WatchDelivery] {
        var deliveries: [WatchDelivery] = []
        for paths in oneShot.values {
            for boxes in paths.values { deliveries += boxes.map { .failOneShot($0, error) } }
        }
        for paths in persistent.values {
            for sinks in paths.values { deliveries += sinks.map { .finishPersistent($0, error) } }
        }
        oneShot = [:]
        persistent = [:]
        return deliveries
    }

    /// Paths to re-register after a reconnect, per kind, each path once.
    func paths(of kind: WatchKind) -> [String] {
        switch kind {
        case .data, .exist, .child: return (oneShot[kind] ?? [:]).filter { !$0.value.isEmpty }.keys.sorted()
        case .persistent, .persistentRecursive:
            return (persistent[kind] ?? [:]).filter { !$0.value.isEmpty }.keys.sorted()
        }
    }

    private static func parent(of path: String) -> String? {
        guard path != "/", let slash = path.lastIndex(of: "/") else { return nil }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

extension WatchDelivery {
    /// Hands the event or error to its owner. Call outside any lock.
    func perform() {
        switch self {
        case let .oneShot(box, event): box.fire(event)
        case let .persistent(sink, event): sink.continuation.yield(event)
        case let .failOneShot(box, error): box.fail(error)
        case let .finishPersistent(sink, error):
            if let error { sink.continuation.finish(throwing: error) } else { sink.continuation.finish() }
        }
    }
}
