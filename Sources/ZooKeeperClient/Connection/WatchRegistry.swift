import ZooKeeperProtocol

/// The kinds of watch the client keeps, as the Java client's `ZKWatchManager` does.
enum WatchKind: Hashable, Sendable {
    case data, exist, child, persistent, persistentRecursive
    /// Not a watch: marks the client's own clean-up `removeWatches`, so the registry sees its reply in
    /// order with the others (see ``WatchRegistry/settle(_:err:)``).
    case removal
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
    /// The client's own clean-up `removeWatches` requests, until their tasks end (see ``settle(_:err:)``).
    private var removals: [Removal] = []
    /// `addWatch` requests in flight, per path: the last persistent watch dropped meanwhile is not
    /// removed on the server (it would take the new one with it); the path is noted in `deferredRemovals`.
    private var addingPersistent: [String: Int] = [:]
    private var deferredRemovals: Set<String> = []

    var isEmpty: Bool { oneShot.values.allSatisfy(\.isEmpty) && persistent.values.allSatisfy(\.isEmpty) }

    var hasPersistentWatches: Bool { persistent.values.contains { !$0.isEmpty } }

    mutating func add(_ box: OneShotWatchBox, kind: WatchKind, path: String) {
        oneShot[kind, default: [:]][path, default: []].append(box)
    }

    mutating func add(_ sink: PersistentSink, kind: WatchKind, path: String) {
        persistent[kind, default: [:]][path, default: []].append(sink)
    }

    /// Removes one one-shot watch (its read was cancelled). The server-side watch stays: it is shared
    /// by the path's other watches of the kind, and fires once at most.
    mutating func removeOneShot(_ box: OneShotWatchBox, path: String) {
        for kind in [WatchKind.data, .exist, .child] {
            guard var boxes = oneShot[kind]?[path], let index = boxes.firstIndex(where: { $0 === box }) else { continue }
            boxes.remove(at: index)
            oneShot[kind]?[path] = boxes.isEmpty ? nil : boxes
        }
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

    func hasPersistentWatch(on path: String) -> Bool {
        persistent.values.contains { $0[path] != nil }
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
    ///
    /// Clean-up removals in flight are left alone: their tasks end on their failed replies.
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
        case .removal: return []
        }
    }

    private static func parent(of path: String) -> String? {
        guard path != "/", let slash = path.lastIndex(of: "/") else { return nil }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// Server-side clean-up of dropped persistent watches.
///
/// Apache 3.8 accepts only `children`/`data`/`any` in `removeWatches` and keeps one watch per path,
/// table and connection (a one-shot watch armed on a path with a persistent watch turns it into a
/// one-shot, ZOOKEEPER-4466), so removing a persistent watch on the server (`any`) also removes every
/// watch armed on that path by a request sent before the removal, even one whose reply is not in yet.
/// The client therefore notes which watches are armed on the path when the removal's reply is matched
/// (replies come in send order: exactly those were on the server), and re-registers the ones still
/// armed afterwards with `SetWatches2` relative to the removal's zxid, so a change made after the
/// removal still fires them.
extension WatchRegistry {
    struct Removal: Sendable {
        let marker: WatchRegistration
        /// Set when the removal's reply is matched: the watches armed on its path at that moment.
        var affected: (boxes: [(WatchKind, OneShotWatchBox)], sinks: [(WatchKind, UInt64)])?
    }

    /// Forgets persistent sink `id`. Returns the marker of a clean-up removal to send for `path` if
    /// that was its last persistent watch (nil: none due, or deferred behind an `addWatch` in flight).
    mutating func dropPersistent(id: UInt64, path: String) -> WatchRegistration? {
        guard removePersistent(id: id, path: path).removed != nil else { return nil }
        return removalIfUnwatched(path)
    }

    /// An `addWatch` on `path` is about to be sent.
    mutating func beginAddingPersistent(_ path: String) {
        addingPersistent[path, default: 0] += 1
    }

    /// That `addWatch`'s outcome is known (its sink armed or not). Returns a clean-up removal to send
    /// if one was deferred for it and the path is left without a persistent watch.
    mutating func endAddingPersistent(_ path: String) -> WatchRegistration? {
        let left = (addingPersistent[path] ?? 1) - 1
        addingPersistent[path] = left > 0 ? left : nil
        guard left <= 0, deferredRemovals.remove(path) != nil else { return nil }
        return removalIfUnwatched(path)
    }

    private mutating func removalIfUnwatched(_ path: String) -> WatchRegistration? {
        guard !hasPersistentWatch(on: path) else { return nil }
        if addingPersistent[path] != nil {
            deferredRemovals.insert(path)
            return nil
        }
        // The box is only the removal's identity: it is never armed.
        let marker = WatchRegistration(kind: .removal, path: path, box: OneShotWatchBox(), sink: nil)
        removals.append(Removal(marker: marker))
        return marker
    }

    /// A request's reply was matched (under the client's lock, in reply order): arms its watch, or,
    /// for a clean-up removal, notes what it took.
    mutating func settle(_ registration: WatchRegistration, err: ZooKeeperErrorCode) {
        if registration.kind == .removal {
            guard let index = removals.firstIndex(where: { $0.marker.box === registration.box }) else { return }
            // On an error (noWatcher) nothing was removed.
            removals[index].affected = err == .ok ? armedWatches(on: registration.path) : ([], [])
            return
        }
        guard registration.shouldArm(for: err) else { return }
        if let box = registration.box, !box.isAbandoned { add(box, kind: registration.kindFor(err), path: registration.path) }
        if let sink = registration.sink { add(sink, kind: registration.kind, path: registration.path) }
    }

    /// Ends a clean-up removal: the kinds to re-register on its path (those it took that are still armed).
    mutating func finishRemoval(_ marker: WatchRegistration) -> [WatchKind] {
        guard let index = removals.firstIndex(where: { $0.marker.box === marker.box }) else { return [] }
        let removal = removals.remove(at: index)
        guard let affected = removal.affected else { return [] }  // no reply: the connection was lost
        let path = marker.path
        var kinds: Set<WatchKind> = []
        for (kind, box) in affected.boxes where oneShot[kind]?[path]?.contains(where: { $0 === box }) == true {
            kinds.insert(kind)
        }
        for (kind, id) in affected.sinks where persistent[kind]?[path]?.contains(where: { $0.id == id }) == true {
            kinds.insert(kind)
        }
        return Array(kinds)
    }

    private func armedWatches(on path: String) -> (boxes: [(WatchKind, OneShotWatchBox)], sinks: [(WatchKind, UInt64)]) {
        var boxes: [(WatchKind, OneShotWatchBox)] = []
        var sinks: [(WatchKind, UInt64)] = []
        for (kind, paths) in oneShot { for box in paths[path] ?? [] { boxes.append((kind, box)) } }
        for (kind, paths) in persistent { for sink in paths[path] ?? [] { sinks.append((kind, sink.id)) } }
        return (boxes, sinks)
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
