import ZooKeeperClient

/// The one contender engine behind the locks and the leader latch (Curator's `LockInternals` +
/// `StandardLockInternalsDriver`): protected ephemeral-sequential nodes in a directory, ordered by
/// sequence; the first `maxLeases` hold; every other contender watches only the node `maxLeases`
/// places before it (herd-free).
struct LockContenders: Sendable {
    let client: ZooKeeperClient
    let directory: ZNodePath
    /// The part of the node name before the sequence: `lock-`, `latch-`, …
    let lockName: String
    /// kazoo's marker in its `Lock` / `WriteLock` node names (`<32 hex>__lock__<seq>`).
    static let kazooLockName = "__lock__"
    /// kazoo's marker in its `ReadLock` node names (`<32 hex>__rlock__<seq>`).
    static let kazooReadLockName = "__rlock__"
    let maxLeases: Int
    let retryPolicy: RetryPolicy
    /// The names that mark a contender and whose following text is its sort key: ours (the read/write
    /// lock has two) and the kazoo markers we recognise. A child with none of them is not a contender.
    let sortNames: [String]
    /// Decides, from the sorted contenders and our index, whether we hold or whom we watch.
    let turn: Turn

    /// A contender's turn policy: hold, or watch exactly one other contender (herd-free).
    enum Decision: Sendable, Hashable {
        case holds
        case watch(String)
    }

    /// The policies the recipes use. (An enum, not a closure: the engine stays one piece of code.)
    enum Turn: Sendable, Hashable {
        /// The first `maxLeases` hold; the others watch the node `maxLeases` places before them.
        case leases
        /// Holds unless a node whose name contains one of `writerNames` is before it; then watches the
        /// *nearest* such node (the ZooKeeper recipe's shared lock, not Curator's first writer).
        case reader(writerNames: [String])
    }

    init(
        client: ZooKeeperClient, directory: ZNodePath, lockName: String, maxLeases: Int, retryPolicy: RetryPolicy,
        sortNames: [String]? = nil, turn: Turn = .leases
    ) {
        self.client = client
        self.directory = directory
        self.lockName = lockName
        self.maxLeases = maxLeases
        self.retryPolicy = retryPolicy
        self.sortNames = sortNames ?? [lockName]
        self.turn = turn
    }

    /// What the contender at `index` of `ordered` does.
    func decide(_ ordered: [String], index: Int) -> Decision {
        Self.decide(turn, maxLeases: maxLeases, ordered: ordered, index: index)
    }

    /// What the contender at `index` of `ordered` does under `turn`.
    static func decide(_ turn: Turn, maxLeases: Int, ordered: [String], index: Int) -> Decision {
        switch turn {
        case .leases:
            return index < maxLeases ? .holds : .watch(ordered[index - maxLeases])
        case .reader(let writerNames):
            guard let writer = ordered[..<index].lastIndex(where: { name in writerNames.contains { name.contains($0) } }) else {
                return .holds
            }
            return .watch(ordered[writer])
        }
    }

    /// A node of ours that holds.
    struct Holding: Sendable, Hashable {
        /// The holding node.
        var path: ZNodePath
        var czxid: Int64
        var sessionID: Int64
    }

    // MARK: - Ordering (Curator's fixForSorting)

    /// The text after the last occurrence of `lockName`, or the whole name if it is absent.
    static func sortKey(_ name: String, lockName: String) -> Substring {
        let text = Array(name.utf8), needle = Array(lockName.utf8)
        guard !needle.isEmpty, text.count >= needle.count else { return name[...] }
        var start = text.count - needle.count
        while start >= 0 {
            if text[start..<start + needle.count].elementsEqual(needle) {
                let utf8 = name.utf8
                return name[utf8.index(utf8.startIndex, offsetBy: start + needle.count)...]
            }
            start -= 1
        }
        return name[...]
    }

    /// The contenders among `children` (names containing one of `markers`), in lock order, and the
    /// unrelated children, which are ignored — and reported, never silently treated as contenders
    /// (Curator counts them, TN7; go-zookeeper errors out, samuel/go-zookeeper#64).
    static func contenders(_ children: [String], markers: [String]) -> (ordered: [String], unrelated: [String]) {
        var contenders: [String] = [], unrelated: [String] = []
        for child in children {
            if markers.contains(where: { child.contains($0) }) { contenders.append(child) } else { unrelated.append(child) }
        }
        return (sorted(contenders, sortNames: markers), unrelated)
    }

    /// Logs unrelated children of a lock directory once per acquire (through the client's log handler).
    func reportUnrelated(_ unrelated: [String], reported: inout Bool) {
        guard !unrelated.isEmpty, !reported else { return }
        reported = true
        client.configuration.logHandler.log(
            .warning, "lock \(directory): ignoring \(unrelated.count) child node(s) that are not lock contenders, e.g. \(unrelated.prefix(3)); keep lock directories for lock nodes only")
    }

    /// Children sorted as Curator sorts them (Java `String.compareTo`: UTF-16 code units).
    static func sorted(_ children: [String], lockName: String) -> [String] {
        sorted(children, sortNames: [lockName])
    }

    /// Children sorted by the text after each of `sortNames` in turn (Curator's read/write lock driver
    /// strips `__READ__`, then `__WRIT__`); ties keep a stable order by full name.
    ///
    /// Keys that are usable sequence numbers sort numerically (the same order as Curator's text order
    /// for ZooKeeper's 10-digit suffixes) and before every other key; the rest — exhausted sequences
    /// (`2147483647`, negative: see ``SequenceNumbers``) and non-numbers — follow, as Curator's text.
    /// So a node past the sequence range never sorts before a valid one (as text `-2147483648` would).
    static func sorted(_ children: [String], sortNames: [String]) -> [String] {
        children.map { name -> (sequence: Int32?, key: [UInt16], name: String) in
            let key = sequenceText(name, sortNames: sortNames)
            let sequence = SequenceNumbers.parse(key).flatMap { SequenceNumbers.isUsable($0) ? $0 : nil }
            return (sequence, Array(key.utf16), name)
        }
        .sorted { a, b in
            switch (a.sequence, b.sequence) {
            case let (x?, y?): return x == y ? a.name < b.name : x < y
            case (_?, nil): return true
            case (nil, _?): return false
            case (nil, nil): return a.key == b.key ? a.name < b.name : a.key.lexicographicallyPrecedes(b.key)
            }
        }
        .map(\.name)
    }

    /// The sort key of `name`: the text after each of `sortNames` in turn.
    static func sequenceText(_ name: String, sortNames: [String]) -> Substring {
        var key = name[...]
        for sortName in sortNames { key = sortKey(String(key), lockName: sortName) }
        return key
    }

    // MARK: - Acquire

    /// Acquires a lease: returns once our node is among the first `maxLeases`.
    ///
    /// - Throws: ``LockError/timedOut`` at `deadline`; `CancellationError`; a non-retryable
    ///   ``ZooKeeperError``. In every failure case our node is deleted before this returns.
    func acquire(data: [UInt8] = [], deadline: ContinuousClock.Instant?) async throws -> Holding {
        // Cleanup after a timeout is waited for only briefly past the deadline; it finishes in the background.
        let cleanupBound = { GuaranteedDelete.bound(after: deadline) }
        while true {
            try Task.checkCancellation()
            let creator = ProtectedCreate(client: client, parent: directory, name: lockName)
            let node: ProtectedCreate.Created
            let children: [String]?
            do {
                // Bounded by the deadline even while no server answers (retries would outlast it).
                (node, children) = try await Self.within(deadline) {
                    try await creator.createListingParent(data: data, mode: .ephemeralSequential, policy: retryPolicy)
                }
            } catch {
                // The create may have happened (cancelled or failed mid-flight): remove what carries our prefix.
                await creator.deleteAllOwn(waitUntil: cleanupBound())
                throw error
            }
            do {
                if SequenceNumbers.isExhausted(Self.sequenceText(node.name, sortNames: sortNames)) {
                    // Past ZooKeeper's sequence range: our place cannot be known (the catch deletes the node).
                    throw LockError.sequenceExhausted(directory: directory.string)
                }
                let turn = try await Self.within(deadline) { try await waitForTurn(node, children: children, deadline: deadline) }
                if let holding = turn { return holding }
                // Our node vanished or belongs to an old session: start over with a new one.
                await GuaranteedDelete.run(client: client, path: node.path, waitUntil: cleanupBound())
            } catch {
                await GuaranteedDelete.run(client: client, path: node.path, waitUntil: cleanupBound())
                throw error
            }
        }
    }

    /// Runs `operation`, throwing ``LockError/timedOut`` (and cancelling it) at `deadline`.
    static func within<T: Sendable>(
        _ deadline: ContinuousClock.Instant?, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        guard let deadline else { return try await operation() }
        if ContinuousClock.now >= deadline { throw LockError.timedOut }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw LockError.timedOut }
            return value
        }
    }

    /// Waits until `node` is among the first `maxLeases`; `nil` means start over.
    /// - Parameter listed: the directory's children listed right after the create, if any.
    private func waitForTurn(
        _ node: ProtectedCreate.Created, children listed: [String]?, deadline: ContinuousClock.Instant?
    ) async throws -> Holding? {
        var listed = listed
        var reported = false
        while true {
            try Task.checkCancellation()
            let children: [String]
            if let first = listed {
                children = first
                listed = nil
            } else {
                do {
                    children = try await retrying(retryPolicy, client) { try await client.getChildren(directory) }
                } catch let error as ZooKeeperError where error.code == .noNode {
                    return nil
                }
            }
            let (ordered, unrelated) = Self.contenders(children, markers: sortNames)
            reportUnrelated(unrelated, reported: &reported)
            guard let index = ordered.firstIndex(of: node.name) else { return nil }
            switch decide(ordered, index: index) {
            case .holds:
                // CURATOR-696: the node counts only if it belongs to the session we have now; an old
                // session's node may linger until the server expires it.
                guard let session = client.session?.id, node.ephemeralOwner == session else { return nil }
                return Holding(path: node.path, czxid: node.czxid, sessionID: session)
            case .watch(let name):
                try await watch(try directory.appending(name), deadline: deadline)
            }
        }
    }

    /// `getData`-watches `predecessor` and waits for the watch (returns at once if it is gone).
    private func watch(_ predecessor: ZNodePath, deadline: ContinuousClock.Instant?) async throws {
        do {
            // getData, not exists: a watch on a vanished node would dangle (CURATOR-107).
            let watch = try await retrying(retryPolicy, client) { try await client.getDataWatching(predecessor) }.watch
            try await Self.wait(for: watch, until: deadline)
        } catch let error as ZooKeeperError where error.code == .noNode {
            return
        }
    }

    /// Waits for a watch to fire, or throws ``LockError/timedOut`` at `deadline`.
    static func wait(for watch: OneShotWatch, until deadline: ContinuousClock.Instant?) async throws {
        guard let deadline else {
            _ = try await watch.event()
            return
        }
        if ContinuousClock.now >= deadline { throw LockError.timedOut }
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { _ = try await watch.event(); return true }
            group.addTask { try await Task.sleep(until: deadline, clock: .continuous); return false }
            defer { group.cancelAll() }
            guard let fired = try await group.next(), fired else { throw LockError.timedOut }
        }
    }
}

/// Curator's ordering of lock contenders, for tools and tests.
public enum LockNames {
    /// `children` sorted by the text after the last `lockName` (the whole name when absent), compared
    /// as Java compares strings: Curator's `StandardLockInternalsDriver.fixForSorting`.
    public static func sorted(_ children: [String], lockName: String = DistributedMutex.lockName) -> [String] {
        LockContenders.sorted(children, lockName: lockName)
    }
}
