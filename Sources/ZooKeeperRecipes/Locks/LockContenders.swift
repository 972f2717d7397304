import ZooKeeperClient

/// The one contender engine behind the locks, the semaphore and the leader latch (Curator's
/// `LockInternals` + `StandardLockInternalsDriver`): protected ephemeral-sequential nodes in a directory,
/// ordered by sequence; a ``Turn`` policy says from the sorted contenders whether ours holds and what
/// it watches meanwhile (one contender, herd-free, or the directory when any release may admit it).
///
/// Two ways in: ``acquire(data:deadline:)`` blocks until our node holds (locks, semaphore leases);
/// ``enter(data:deadline:)`` + ``look(at:listed:reported:)`` take one step at a time for a recipe that
/// keeps its node and reacts to watches (the leader latch).
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
    /// Decides, from the sorted contenders and our index, whether we hold or what we watch.
    let turn: Turn

    /// Tests only: runs with a contender's path just before it is watched (to make it vanish at that
    /// moment). A task local: set it around the call (or around a latch's `start()`, whose tasks inherit it).
    @TaskLocal static var beforeWatching: (@Sendable (ZNodePath) async -> Void)?

    /// A contender's turn: hold, or what to watch until it may hold.
    enum Decision: Sendable, Hashable {
        case holds
        /// `getData`-watch this one contender (herd-free).
        case watch(String)
        /// `getChildren`-watch the directory: any contender leaving may admit us.
        case watchChildren
    }

    /// The policies the recipes use. (An enum, not a closure: the engine stays one piece of code.)
    enum Turn: Sendable, Hashable {
        /// The first `maxLeases` hold; the others watch the node `maxLeases` places before them.
        case leases
        /// Holds unless a node whose name contains one of `writerNames` is before it; then watches the
        /// *nearest* such node (the ZooKeeper recipe's shared lock, not Curator's first writer).
        case reader(writerNames: [String])
        /// Curator's `InterProcessSemaphoreV2`: holds while the directory has at most `maxLeases`
        /// children (every child counts, as in Curator, contender or not); otherwise watches the
        /// directory's children, since *any* holder's release may admit us, not one predecessor's.
        case count
        /// The leader latch: as ``leases`` (with one lease), and the holder *watches its own node*, so a
        /// deletion from outside (an operator's, or the session's end) is noticed while leading.
        case leader
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

    /// What the contender at `index` of `ordered` does under `turn`; `unrelated` counts the
    /// directory's other children (only ``Turn/count`` counts them).
    static func decide(_ turn: Turn, maxLeases: Int, ordered: [String], index: Int, unrelated: Int = 0) -> Decision {
        switch turn {
        case .leases, .leader:
            return index < maxLeases ? .holds : .watch(ordered[index - maxLeases])
        case .reader(let writerNames):
            guard let writer = ordered[..<index].lastIndex(where: { name in writerNames.contains { name.contains($0) } }) else {
                return .holds
            }
            return .watch(ordered[writer])
        case .count:
            return ordered.count + unrelated <= maxLeases ? .holds : .watchChildren
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

    /// Acquires a lease: returns once our node holds.
    ///
    /// - Throws: ``LockError/timedOut`` at `deadline`; ``LockError/sequenceExhausted(directory:)``;
    ///   `CancellationError`; a non-retryable ``ZooKeeperError``. In every failure case our node is
    ///   deleted before this returns.
    func acquire(data: [UInt8] = [], deadline: ContinuousClock.Instant?) async throws -> Holding {
        // Cleanup after a timeout is waited for only briefly past the deadline; it finishes in the background.
        let cleanupBound = { GuaranteedDelete.bound(after: deadline) }
        while true {
            try Task.checkCancellation()
            let (node, listed) = try await enter(data: data, deadline: deadline)
            do {
                // The deadline bounds every wait below, watches included.
                let turn = try await Self.within(deadline) { try await waitForTurn(node, listed: listed) }
                if let holding = turn {
                    client.configuration.logHandler.log(.debug, "lock \(node.path): held")
                    return holding
                }
                client.configuration.logHandler.log(.debug, "lock \(node.path): gone while waiting; entering again")
                // Our node vanished or belongs to an old session: start over with a new one.
                await GuaranteedDelete.run(client: client, path: node.path, waitUntil: cleanupBound())
            } catch {
                client.configuration.logHandler.log(.debug, "lock \(node.path): not acquired (\(error)); deleting it")
                await GuaranteedDelete.run(client: client, path: node.path, waitUntil: cleanupBound())
                throw error
            }
        }
    }

    /// Creates our contender node (protected, ephemeral-sequential) and lists the directory in the same
    /// round trip.
    ///
    /// - Returns: the node, and the directory's children when the listing came with it.
    /// - Throws: as ``acquire(data:deadline:)``; ``LockError/sequenceExhausted(directory:)`` when the node's
    ///   sequence is past ZooKeeper's range (its place cannot be known). Nothing of ours is left behind.
    func enter(data: [UInt8], deadline: ContinuousClock.Instant?) async throws -> (ProtectedCreate.Created, [String]?) {
        let creator = ProtectedCreate(client: client, parent: directory, name: lockName)
        let entered: (ProtectedCreate.Created, [String]?)
        do {
            // Bounded by the deadline even while no server answers (retries would outlast it).
            entered = try await Self.within(deadline) {
                try await creator.createListingParent(data: data, mode: .ephemeralSequential, policy: retryPolicy)
            }
        } catch {
            client.configuration.logHandler.log(.debug, "lock \(directory)/\(creator.prefix)*: create failed (\(error)); deleting what carries the prefix")
            // The create may have happened (cancelled or failed mid-flight): remove what carries our prefix.
            await creator.deleteAllOwn(waitUntil: GuaranteedDelete.bound(after: deadline))
            throw error
        }
        // Past ZooKeeper's sequence range our place cannot be known (the count policy has no places).
        if turn != .count, SequenceNumbers.isExhausted(Self.sequenceText(entered.0.name, sortNames: sortNames)) {
            await GuaranteedDelete.run(client: client, path: entered.0.path, waitUntil: GuaranteedDelete.bound(after: deadline))
            throw LockError.sequenceExhausted(directory: directory.string)
        }
        client.configuration.logHandler.log(.debug, "lock \(entered.0.path): entered (listed: \(entered.1 != nil))")
        return entered
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

    /// Waits until `node` holds; `nil` means start over.
    /// - Parameter listed: the directory's children listed right after the create, if any.
    private func waitForTurn(_ node: ProtectedCreate.Created, listed: [String]?) async throws -> Holding? {
        var listed = listed
        var reported = false
        while true {
            try Task.checkCancellation()
            switch try await look(at: node, listed: listed, reported: &reported) {
            case .holds(let holding, _): return holding
            case .waits(let watch): _ = try await watch.event()
            case .again: break
            case .gone: return nil
            }
            listed = nil
        }
    }

    // MARK: - One step

    /// Where our node stands after one ``look(at:listed:reported:)``.
    enum Standing: Sendable {
        /// It holds. Under ``Turn/leader`` `watch` fires when our node changes or goes; otherwise `nil`.
        case holds(Holding, watch: OneShotWatch?)
        /// It does not hold yet: look again once `watch` fires.
        case waits(OneShotWatch)
        /// What it would have watched changed before the watch was set: look again now.
        case again
        /// It is gone, or belongs to an older session (CURATOR-696): it can never hold. Delete it
        /// (a no-op if gone) and enter anew.
        case gone
    }

    /// Lists the directory (unless `listed` is given), applies ``turn`` and arms the watch that tells
    /// when to look again.
    ///
    /// - Parameter reported: whether unrelated children were logged already (once per contender).
    /// - Throws: a ``ZooKeeperError`` the retry policy gave up on, or a non-retryable one.
    func look(at node: ProtectedCreate.Created, listed: [String]?, reported: inout Bool) async throws -> Standing {
        let children: [String]
        var childrenWatch: OneShotWatch?
        do {
            if let listed {
                children = listed
            } else if turn == .count {
                (children, _, childrenWatch) = try await retrying(retryPolicy, client) { try await client.getChildrenWatching(directory) }
            } else {
                children = try await retrying(retryPolicy, client) { try await client.getChildren(directory) }
            }
        } catch let error as ZooKeeperError where error.code == .noNode {
            return .gone  // the directory went, and our node with it
        }
        let (ordered, unrelated) = Self.contenders(children, markers: sortNames)
        if turn != .count { reportUnrelated(unrelated, reported: &reported) }  // the count policy counts them
        guard let index = ordered.firstIndex(of: node.name) else { return .gone }
        switch Self.decide(turn, maxLeases: maxLeases, ordered: ordered, index: index, unrelated: unrelated.count) {
        case .holds:
            // CURATOR-696: the node counts only if it belongs to the session we have now; an old
            // session's node may linger until the server expires it.
            guard let session = client.session?.id, node.ephemeralOwner == session else { return .gone }
            let holding = Holding(path: node.path, czxid: node.czxid, sessionID: session)
            guard turn == .leader else { return .holds(holding, watch: nil) }
            guard let own = try await watchData(node.path) else { return .gone }
            return .holds(holding, watch: own)
        case .watch(let name):
            let other = try directory.appending(name)
            if let hook = Self.beforeWatching { await hook(other) }
            return try await watchData(other).map { .waits($0) } ?? .again
        case .watchChildren:
            // The pipelined listing set no watch: list again, watching.
            return childrenWatch.map { .waits($0) } ?? .again
        }
    }

    /// `getData`-watches `path`; `nil` if it is gone. (getData, not exists: a watch on a vanished node
    /// would dangle, CURATOR-107.)
    private func watchData(_ path: ZNodePath) async throws -> OneShotWatch? {
        do {
            return try await retrying(retryPolicy, client) { try await client.getDataWatching(path) }.watch
        } catch let error as ZooKeeperError where error.code == .noNode {
            return nil
        }
    }
}

/// Curator's ordering of lock contenders, for tools and tests.
public enum LockNames {
    /// `children` sorted by the text after the last `lockName` (the whole name when absent), compared
    /// as Java compares strings: Curator's `StandardLockInternalsDriver.fixForSorting`.
    public static func sorted(_ children: [String], lockName: String = DistributedMutex.lockName) -> [String] {
        LockContenders.sorted(children, sortNames: [lockName])
    }
}
