public import ZooKeeperClient

/// A distributed read/write lock: Curator's `InterProcessReadWriteLock` layout with the ZooKeeper
/// recipe's herd-free waiting.
///
/// ```swift
/// let lock = DistributedReadWriteLock(client: zk, path: "/locks/catalogue")
/// let snapshot = try await lock.readLock.withLock(timeout: .seconds(5)) { _ in try await readCatalogue() }
/// try await lock.writeLock.withLock { lease in try await rewriteCatalogue(fencedBy: lease.fencingToken) }
/// ```
///
/// **Layout** (Curator's): `<path>/_c_<uuid>-__READ__<seq>` and `<path>/_c_<uuid>-__WRIT__<seq>`,
/// ephemeral-sequential, protected, parents created as containers. Both names have the same length
/// and contenders are ordered by the text after the name (the sequence), so readers and writers share
/// one FIFO queue.
///
/// **Algorithm** (the one contender engine, two policies):
/// - A **writer** holds when its node is first; otherwise it watches its *immediate* predecessor,
///   reader or writer.
/// - A **reader** holds when no writer node is before it; otherwise it watches the *nearest* writer
///   before it (ZooKeeper's `recipes.md`, Shared Locks step 4). Curator's reader watches the *first*
///   writer instead, so every reader queued behind a run of writers wakes when that one goes: ours wake
///   only when the writer right before them goes.
/// - Fair: a reader queued after a waiting writer waits for that writer, even while other readers hold.
///
/// **Downgrade**: a task holding ``writeLock`` (inside its `withLock`) may take ``readLock`` at once:
/// the read node is a plain ephemeral `_c_<uuid>-__READ__<seq>` reusing the writer's sequence, so it
/// sorts at the writer's place and a writer queued behind keeps waiting after the write lock is released
/// (the CURATOR-621 fix of Curator 5.5). Upgrading (taking the write lock while holding only the read
/// lock) deadlocks until the timeout, as in Curator: the writer waits for our own read node.
///
/// Both halves are ``DistributedMutex`` values: reentrant for the same owner, with timeouts, cancellation
/// that leaves no node, fencing tokens, ownership checks and the connection-state contract described there.
public struct DistributedReadWriteLock: Sendable {
    /// The client both halves use.
    public let client: ZooKeeperClient
    /// The lock directory.
    public let path: ZNodePath
    /// The shared half: many holders at a time, none while a writer holds.
    public var readLock: DistributedMutex
    /// The exclusive half.
    public var writeLock: DistributedMutex

    /// Curator's `READ_LOCK_NAME`.
    public static let readLockName = "__READ__"
    /// Curator's `WRITE_LOCK_NAME`.
    public static let writeLockName = "__WRIT__"

    /// A read/write lock on `path` (created as a container when first used).
    ///
    /// - Parameter retryPolicy: for the recipe's own ZooKeeper calls (retryable errors only).
    public init(client: ZooKeeperClient, path: ZNodePath, retryPolicy: RetryPolicy = .standard) {
        self.client = client
        self.path = path
        // kazoo's ReadLock (`__rlock__`) and WriteLock/Lock (`__lock__`) nodes are contenders too.
        let names = [Self.readLockName, Self.writeLockName, LockContenders.kazooReadLockName, LockContenders.kazooLockName]
        let writer = DistributedMutex(
            client: client, path: path, retryPolicy: retryPolicy, name: Self.writeLockName, turn: .leases,
            sortNames: names, downgradeFrom: nil)
        writeLock = writer
        readLock = DistributedMutex(
            client: client, path: path, retryPolicy: retryPolicy, name: Self.readLockName,
            turn: .reader(writerNames: [Self.writeLockName, LockContenders.kazooLockName]), sortNames: names, downgradeFrom: writer.key)
    }

    /// Curator's ordering of read/write lock contenders (by the text after `__READ__` or `__WRIT__`).
    public static func sorted(_ children: [String]) -> [String] {
        LockContenders.sorted(children, sortNames: [readLockName, writeLockName])
    }
}

extension DistributedMutex {
    /// Takes the read lock for the holder of `writer`: a plain ephemeral read node with the writer's
    /// sequence, held at once (nobody else holds while we hold the write lock).
    func downgrade(from writer: LockLease) async throws -> LockContenders.Holding {
        let writerName = writer.path.name
        let sequence = LockContenders.sortKey(writerName, lockName: DistributedReadWriteLock.writeLockName)
        let creator = ProtectedCreate(client: client, parent: path, name: name + sequence)
        do {
            let node = try await creator.create(data: [], mode: .ephemeral, policy: retryPolicy)
            guard let session = client.session?.id, node.ephemeralOwner == session else {
                throw LockError.leaseLost
            }
            return LockContenders.Holding(path: node.path, czxid: node.czxid, sessionID: session)
        } catch {
            await creator.deleteAllOwn()
            throw error
        }
    }
}
