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
    let maxLeases: Int
    let retryPolicy: RetryPolicy

    /// A node of ours that holds.
    struct Holding: Sendable, Hashable {
        var path: String
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

    /// Children sorted as Curator sorts them (Java `String.compareTo`: UTF-16 code units).
    static func sorted(_ children: [String], lockName: String) -> [String] {
        children.map { (key: Array(sortKey($0, lockName: lockName).utf16), name: $0) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }
            .map(\.name)
    }

    // MARK: - Acquire

    /// Acquires a lease: returns once our node is among the first `maxLeases`.
    ///
    /// - Throws: ``LockError/timedOut`` at `deadline`; `CancellationError`; a non-retryable
    ///   ``ZooKeeperError``. In every failure case our node is deleted before this returns.
    func acquire(data: [UInt8] = [], deadline: ContinuousClock.Instant?) async throws -> Holding {
        while true {
            try Task.checkCancellation()
            let creator = ProtectedCreate(client: client, parent: directory, name: lockName)
            let node: ProtectedCreate.Created
            do {
                node = try await creator.create(data: data, mode: .ephemeralSequential, policy: retryPolicy)
            } catch {
                // The create may have happened (cancelled or failed mid-flight): remove what carries our prefix.
                await creator.deleteAllOwn()
                throw error
            }
            do {
                if let holding = try await waitForTurn(node, deadline: deadline) { return holding }
                // Our node vanished or belongs to an old session: start over with a new one.
                await GuaranteedDelete.run(client: client, path: try ZNodePath(node.path))
            } catch {
                await GuaranteedDelete.run(client: client, path: try ZNodePath(node.path))
                throw error
            }
        }
    }

    /// Waits until `node` is among the first `maxLeases`; `nil` means start over.
    private func waitForTurn(_ node: ProtectedCreate.Created, deadline: ContinuousClock.Instant?) async throws -> Holding? {
        while true {
            try Task.checkCancellation()
            let children: [String]
            do {
                children = try await retrying(retryPolicy, client) { try await client.getChildren(directory) }
            } catch let error as ZooKeeperError where error.code == .noNode {
                return nil
            }
            let ordered = Self.sorted(children, lockName: lockName)
            guard let index = ordered.firstIndex(of: node.name) else { return nil }
            if index < maxLeases {
                // CURATOR-696: the node counts only if it belongs to the session we have now; an old
                // session's node may linger until the server expires it.
                guard let session = client.session?.id, node.ephemeralOwner == session else { return nil }
                return Holding(path: node.path, czxid: node.czxid, sessionID: session)
            }
            let predecessor = try directory.appending(ordered[index - maxLeases])
            let watch: OneShotWatch
            do {
                // getData, not exists: a watch on a vanished node would dangle (CURATOR-107).
                watch = try await retrying(retryPolicy, client) { try await client.getDataWatching(predecessor) }.watch
            } catch let error as ZooKeeperError where error.code == .noNode {
                continue
            }
            try await Self.wait(for: watch, until: deadline)
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
