import Foundation
import Synchronization
import ZooKeeperProtocol

/// The pipeline's use of the disk: appends each batch's transactions, makes them durable with one
/// group commit, takes snapshots every `snapCount` transactions (serialized on the pipeline thread,
/// written on a background thread so writes continue), and purges old files when configured.
///
/// Owned by the pipeline thread, except the snapshot writer's thread, which only touches its own copy
/// of the bytes and the `snapshotting` flag.
final class PersistenceDriver {
    let configuration: ServerConfiguration
    let log: TxnLog
    let snapshots: SnapshotStore
    let serverLog: ServerLog
    /// Where group commits, fsyncs and snapshots are counted.
    let metrics: ServerMetrics
    private var appendError: PersistenceError?
    private var appended = 0
    private var sinceSnapshot = 0
    private var snapshotThreshold: Int
    private let snapshotting = SnapshotFlag()
    private var lastPurge = ContinuousClock.now

    init(configuration: ServerConfiguration, log: TxnLog, snapshots: SnapshotStore, serverLog: ServerLog,
         metrics: ServerMetrics = ServerMetrics()) {
        self.configuration = configuration
        self.metrics = metrics
        self.log = log
        self.snapshots = snapshots
        self.serverLog = serverLog
        snapshotThreshold = Self.randomThreshold(configuration.snapCount)
    }

    /// Apache's SyncRequestProcessor: a random point between snapCount/2 and snapCount, so that the
    /// servers of an ensemble do not all snapshot at once.
    static func randomThreshold(_ snapCount: Int) -> Int {
        let half = max(snapCount / 2, 1)
        return half + Int.random(in: 0..<max(snapCount - half, 1))
    }

    func append(_ txn: LoggedTxn) {
        guard appendError == nil else { return }
        do {
            try log.append(zxid: txn.header.zxid, entry: txn.encode())
            appended += 1
        } catch {
            appendError = error
        }
    }

    /// Group commit: one write + fdatasync for everything appended since the last commit.
    func commit(database: ZooKeeperDatabase) throws {
        if let appendError { throw appendError }
        guard appended > 0 else { return }
        try log.commit()
        let (entries, nanoseconds, forceSync) = (Int64(log.lastCommitEntries), log.lastSyncNanoseconds, log.forceSync)
        metrics.record {
            $0.syncProcessorBatchSize.add(entries)  // SyncRequestProcessor.flush: BATCH_SIZE
            if forceSync { $0.fsyncTime.add(Int64(nanoseconds / 1_000_000)) }  // FileTxnLog.commit: FSYNC_TIME
        }
        sinceSnapshot += appended
        appended = 0
        if sinceSnapshot >= snapshotThreshold, !snapshotting.busy.load(ordering: .acquiring) {
            try takeSnapshot(database)
        }
        purgeIfDue()
    }

    private func takeSnapshot(_ database: ZooKeeperDatabase) throws {
        sinceSnapshot = 0
        snapshotThreshold = Self.randomThreshold(configuration.snapCount)
        // The next transaction starts a new log file, so recovery reads the snapshot plus the logs after it.
        try log.rollLog()
        let zxid = database.lastProcessedZxid
        let started = ContinuousClock.now  // SNAPSHOT_TIME: serialising here plus writing on the thread
        let tree = database.snapshot()
        let digest = database.tree.snapshotDigest
        snapshotting.busy.store(true, ordering: .releasing)
        let store = snapshots
        let serverLog = self.serverLog
        let flag = snapshotting
        let metrics = self.metrics
        let thread = Thread {
            do {
                try store.write(zxid: zxid, tree: tree, digest: digest)
                let elapsed = started.duration(to: .now).milliseconds
                metrics.record { $0.snapshotTime.add(elapsed) }
                serverLog.info("Snapshotting: 0x\(String(zxid, radix: 16)) to \(store.directory)")
            } catch {
                // Not fatal: the log still holds every transaction; the next snapshot will retry.
                serverLog.error("snapshot at 0x\(String(zxid, radix: 16)) failed: \(error)")
            }
            flag.busy.store(false, ordering: .releasing)
        }
        thread.name = "zookeeper-server-snapshot"
        thread.start()
    }

    private func purgeIfDue() {
        guard configuration.purgeIntervalHours > 0,
              lastPurge.duration(to: .now) >= .seconds(configuration.purgeIntervalHours * 3600),
              !snapshotting.busy.load(ordering: .acquiring)
        else { return }
        lastPurge = .now
        let dataDir = configuration.dataDirectory ?? ""
        do {
            let result = try Purger.purge(dataDir: dataDir, dataLogDir: configuration.dataLogDirectory ?? dataDir,
                                          retainCount: configuration.snapRetainCount)
            serverLog.info("Purge task removed \(result.removedSnapshots.count) snapshots and \(result.removedLogs.count) logs")
        } catch {
            serverLog.warning("purge failed: \(error)")
        }
    }

    func close() {
        do { try log.commit(); try log.close() } catch { serverLog.error("closing the transaction log: \(error)") }
    }
}

/// Whether a snapshot is being written (shared with the writer thread).
final class SnapshotFlag: Sendable {
    let busy = Atomic<Bool>(false)
}
