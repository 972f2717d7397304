import Foundation
import Synchronization
import ZooKeeperProtocol

/// A quorum member's disk, in Apache's layout: the transaction log holds every proposal the member logged,
/// committed or not (that is what it acknowledged), snapshots, and the two epoch files.
///
/// Apache's rule for what a member's history is: its newest valid snapshot plus every logged transaction
/// after it — so a restart replays uncommitted proposals too, and the leader's DIFF/TRUNC sets them right.
/// Roles use it one at a time (``QuorumPeer`` hands it from role to role); the log sits behind a lock so
/// the handover is safe.
final class QuorumStorage: Sendable {
    let dataDirectory: String
    let dataLogDirectory: String
    let forceSync: Bool
    /// How far ahead log files are preallocated (`preAllocSize`).
    let preallocationSize: Int
    private let log: Mutex<TxnLog>
    private let snapshots: SnapshotStore
    private let serverLog: ServerLog
    /// `snapCount`: a snapshot after a random count between half and all of it, as Apache's SyncRequestProcessor.
    private let snapCount: Int
    /// Commits since the last snapshot, the count that triggers the next, and whether one is being written.
    private let schedule: Mutex<(since: Int, threshold: Int, writing: Bool)>
    /// The zxid the history was loaded at (the snapshot recovery started from) or last received at (a SNAP):
    /// log entries below it may be proposals that history discarded, so learners are never synced from them.
    private let historyBase: Mutex<Int64>
    /// Where group commits, fsyncs and snapshots are counted (the server's, across roles).
    let metrics: ServerMetrics
    /// Fault injection for tests (a slow disk): each group commit first waits this many milliseconds, and
    /// `stalledSyncs` counts the commits that have begun waiting.
    let syncStall = Atomic<Int>(0)
    let stalledSyncs = Atomic<Int>(0)

    private init(
        dataDirectory: String, dataLogDirectory: String, forceSync: Bool, preallocationSize: Int, snapCount: Int, lastZxid: Int64,
        historyBase: Int64, log: ServerLog, metrics: ServerMetrics
    ) throws(PersistenceError) {
        self.historyBase = Mutex(historyBase)
        self.metrics = metrics
        self.snapCount = snapCount
        self.schedule = Mutex((0, PersistenceDriver.randomThreshold(snapCount), false))
        self.dataDirectory = dataDirectory
        self.dataLogDirectory = dataLogDirectory
        self.forceSync = forceSync
        self.preallocationSize = preallocationSize
        self.serverLog = log
        self.snapshots = SnapshotStore(directory: dataDirectory)
        self.log = Mutex(try TxnLog(directory: dataLogDirectory, forceSync: forceSync, lastZxid: lastZxid, preallocationSize: preallocationSize))
    }

    /// Recovers the member's history and epochs from `dataDirectory` (and `dataLogDirectory`).
    static func open(
        dataDirectory: String, dataLogDirectory: String? = nil, forceSync: Bool = true, preallocationSize: Int = 64 << 20,
        snapCount: Int = 100_000, log: ServerLog = .silent, metrics: ServerMetrics = ServerMetrics()
    ) throws -> (storage: QuorumStorage, database: ZooKeeperDatabase, epochs: EpochFiles) {
        let logDirectory = dataLogDirectory ?? dataDirectory
        let started = ContinuousClock.now
        let (database, historyBase) = try load(dataDirectory: dataDirectory, dataLogDirectory: logDirectory, log: log)
        let loadTime = started.duration(to: .now).milliseconds
        metrics.record { $0.dbInitTime.add(loadTime) }  // ZKDatabase.loadDataBase
        let epochs = try EpochFiles(directory: PersistenceLayout.versionDirectory(of: dataDirectory), lastLoggedZxid: database.lastProcessedZxid)
        let storage = try QuorumStorage(
            dataDirectory: dataDirectory, dataLogDirectory: logDirectory, forceSync: forceSync,
            preallocationSize: preallocationSize, snapCount: snapCount, lastZxid: database.lastProcessedZxid,
            historyBase: historyBase, log: log, metrics: metrics)
        return (storage, database, epochs)
    }

    /// Snapshot + every log entry after it.
    private static func load(dataDirectory: String, dataLogDirectory: String, log: ServerLog) throws -> (ZooKeeperDatabase, historyBase: Int64) {
        try FileIO.makeDirectories(PersistenceLayout.versionDirectory(of: dataDirectory))
        let state = try Recovery.recover(dataDir: dataDirectory, dataLogDir: dataLogDirectory)
        for warning in state.warnings { log.warning("recovery: \(warning)") }
        var database = try state.snapshotTree.map { try ZooKeeperDatabase(snapshot: $0) } ?? ZooKeeperDatabase()
        if let digest = state.snapshotDigest { database.tree.compareSnapshotDigest(digest) }
        let historyBase = database.lastProcessedZxid
        for entry in state.entries where entry.zxid > database.lastProcessedZxid {
            database.replay(try LoggedTxn(decoding: entry.entry))
        }
        return (database, historyBase)
    }

    /// Appends and makes durable (one fdatasync for the batch); acknowledge only after it returns.
    func append(_ txns: [LoggedTxn]) throws(PersistenceError) {
        try write(txns)
        try sync()
    }

    /// Appends without waiting for the disk: nothing written so is acknowledged before ``sync()``.
    func write(_ txns: [LoggedTxn]) throws(PersistenceError) {
        try log.withLock { log throws(PersistenceError) in
            for txn in txns { try log.append(zxid: txn.zxid, entry: txn.encode()) }
        }
    }

    /// The newest zxid written to the log (durable or not yet).
    var lastAppendedZxid: Int64 { log.withLock { $0.lastAppendedZxid } }

    /// Makes everything written durable (one fdatasync: the group commit).
    func sync() throws(PersistenceError) {
        let stall = syncStall.load(ordering: .relaxed)
        if stall > 0 {
            stalledSyncs.add(1, ordering: .relaxed)
            Thread.sleep(forTimeInterval: Double(stall) / 1000)  // the injected slow disk itself, not a wait for an event
        }
        let (entries, nanoseconds) = try log.withLock { log throws(PersistenceError) in
            try log.commit()
            return (log.lastCommitEntries, log.lastSyncNanoseconds)
        }
        guard entries > 0 else { return }
        let forceSync = self.forceSync
        metrics.record {
            $0.syncProcessorBatchSize.add(Int64(entries))  // SyncRequestProcessor.flush: BATCH_SIZE
            if forceSync { $0.fsyncTime.add(Int64(nanoseconds / 1_000_000)) }  // FileTxnLog.commit: FSYNC_TIME
        }
    }

    /// Counts one committed transaction; every `snapCount` or so (randomised) writes a snapshot of `database`
    /// on a thread of its own and starts a new log file, so a restart replays a bounded log. The caller (the
    /// thread that owns the committed tree: the client side while a role serves, else the role) pays for a
    /// copy of the database (copy-on-write), not for the serialisation.
    func committed(_ database: ZooKeeperDatabase) {
        let due = schedule.withLock { schedule -> Bool in
            schedule.since += 1
            guard schedule.since >= schedule.threshold, !schedule.writing else { return false }
            schedule = (0, PersistenceDriver.randomThreshold(snapCount), true)
            return true
        }
        guard due else { return }
        do {
            try log.withLock { log throws(PersistenceError) in try log.rollLog() }
        } catch {
            serverLog.error("cannot start a new log file for the snapshot: \(error)")
        }
        let store = snapshots, serverLog = self.serverLog
        let thread = Thread { [self] in
            let zxid = database.lastProcessedZxid
            do {
                let started = ContinuousClock.now
                try store.write(zxid: zxid, tree: database.snapshot(), digest: database.tree.snapshotDigest)
                let elapsed = started.duration(to: .now).milliseconds
                metrics.record { $0.snapshotTime.add(elapsed) }  // ZooKeeperServer.takeSnapshot: SNAPSHOT_TIME
                serverLog.info("Snapshotting: 0x\(String(zxid, radix: 16)) to \(store.directory)")
            } catch {
                // Not fatal: the log still holds every transaction; the next snapshot will retry.
                serverLog.error("snapshot at 0x\(String(zxid, radix: 16)) failed: \(error)")
            }
            self.schedule.withLock { $0.writing = false }
        }
        thread.name = "zookeeper-member-snapshot"
        thread.start()
    }

    /// Whether a background snapshot is being written.
    var isSnapshotting: Bool { schedule.withLock { $0.writing } }

    /// Writes a snapshot of `database` (at its last processed zxid).
    func snapshot(_ database: ZooKeeperDatabase) throws(PersistenceError) {
        let started = ContinuousClock.now
        try snapshots.write(zxid: database.lastProcessedZxid, tree: database.snapshot(), digest: database.tree.snapshotDigest)
        let elapsed = started.duration(to: .now).milliseconds
        metrics.record { $0.snapshotTime.add(elapsed) }
    }

    /// After a SNAP: the leader's tree replaces ours; later appends continue after its zxid.
    func restart(after zxid: Int64) throws(PersistenceError) {
        historyBase.withLock { $0 = zxid }
        try log.withLock { log throws(PersistenceError) in
            try log.close()
            log = try TxnLog(directory: dataLogDirectory, forceSync: forceSync, lastZxid: zxid, preallocationSize: preallocationSize)
        }
    }

    /// TRUNC: drops every logged transaction above `zxid` (and snapshots newer than it, which 3.8.0 forgets
    /// to do), then returns the history that remains.
    func truncate(after zxid: Int64) throws -> ZooKeeperDatabase {
        try log.withLock { log throws(PersistenceError) in try log.close() }
        let versionDirectory = PersistenceLayout.versionDirectory(of: dataLogDirectory)
        for file in try PersistenceLayout.files(in: versionDirectory, prefix: PersistenceLayout.logPrefix).reversed() {
            let path = versionDirectory + "/" + file.name
            if file.zxid > zxid {
                try FileIO.remove(path)
                continue
            }
            let scan = try TxnLogScanner.scan(path)
            if let first = scan.records.first(where: { $0.zxid > zxid }) {
                try FileIO.truncate(path, to: first.offset)
            }
        }
        for snapshot in try snapshots.list() where snapshot.zxid > zxid {
            try FileIO.remove(snapshot.path)
        }
        serverLog.info("truncated the transaction log after \(Zxid.hex(zxid))")
        return try reopen()
    }

    /// The history the disk holds, as a restart would recover it; the log continues after it. For a learner
    /// whose sync ended while its in-memory database was ahead of the disk (see `FollowerDriver`).
    func reload() throws -> ZooKeeperDatabase {
        try log.withLock { log throws(PersistenceError) in try log.close() }
        return try reopen()
    }

    /// Recovers the history from the files and reopens the log after it (the log must be closed).
    private func reopen() throws -> ZooKeeperDatabase {
        let (database, base) = try Self.load(dataDirectory: dataDirectory, dataLogDirectory: dataLogDirectory, log: serverLog)
        historyBase.withLock { $0 = base }
        let lastZxid = database.lastProcessedZxid
        try log.withLock { log throws(PersistenceError) in
            log = try TxnLog(directory: dataLogDirectory, forceSync: forceSync, lastZxid: lastZxid, preallocationSize: preallocationSize)
        }
        return database
    }

    /// The txns a learner at `peerLastZxid` lacks, from our log files, as `LearnerSyncPlan` wants them (nil:
    /// none usable, a SNAP follows), and the newest snapshot's size. Reads files only; call it off the
    /// leader's thread (it may read up to `snapshotSizeFactor` × the snapshot's size).
    func txnLogForSync(peerLastZxid: Int64, through: Int64, snapshotSizeFactor: Double) -> (source: TxnLogSyncSource?, lastSnapshotSize: Int64) {
        // Only its size is wanted (the limit's base): the newest file by name, not read. Our snapshots appear
        // under their name only once complete (written to a .tmp first); validating one would read it whole.
        let newest = (try? snapshots.list())?.first
        let snapshotSize = newest.flatMap { try? FileIO.fileSize($0.path) }.map(Int64.init) ?? 0
        let limit = TxnLogSyncSource.sizeLimit(lastSnapshotSize: snapshotSize, snapshotSizeFactor: snapshotSizeFactor)
        let source = try? TxnLogSyncReader.read(
            logDirectory: PersistenceLayout.versionDirectory(of: dataLogDirectory), peerLastZxid: peerLastZxid, sizeLimit: limit,
            through: through, historyBase: historyBase.withLock { $0 })
        return (source ?? nil, snapshotSize)
    }

    func close() {
        do {
            try log.withLock { log throws(PersistenceError) in try log.close() }
        } catch {
            serverLog.warning("closing the transaction log: \(error)")
        }
    }
}
