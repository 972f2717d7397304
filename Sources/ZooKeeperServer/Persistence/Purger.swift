/// Autopurge (Apache's `PurgeTxnLog.purge`): keeps the newest `retainCount` valid snapshots and the
/// log files recovery needs from the oldest of them on, and deletes older snapshots and logs.
package enum Purger {
    package struct Result: Sendable, Equatable {
        package var removedSnapshots: [String] = []
        package var removedLogs: [String] = []
    }

    /// Deletes what recovery can no longer need. Safe to call from a background thread while the
    /// ``TxnLog`` appends and a ``SnapshotStore`` writes: it never touches the newest log files or a
    /// snapshot being written. Not concurrently with ``Recovery``.
    ///
    /// Kept: the `retainCount` newest snapshots that validate, every snapshot newer than the oldest of
    /// them (valid or not), the log file containing the oldest kept snapshot's zxid (the last one
    /// starting at or before it) and every later log file. Nothing is removed when no snapshot validates.
    /// Apache insists on `retainCount >= 3`; callers should clamp (``ServerConfiguration/snapRetainCount``).
    @discardableResult
    package static func purge(dataDir: String, dataLogDir: String, retainCount: Int) throws(PersistenceError) -> Result {
        guard retainCount >= 1 else {
            throw PersistenceError(.invalidArgument, "retainCount must be at least 1, got \(retainCount)")
        }
        let store = SnapshotStore(directory: dataDir)
        let kept = try store.validSnapshots(limit: retainCount)
        guard let oldestKept = kept.last?.zxid else { return Result() }

        var result = Result()
        let logDirectory = PersistenceLayout.versionDirectory(of: dataLogDir)
        let logs = try PersistenceLayout.files(in: logDirectory, prefix: PersistenceLayout.logPrefix)
        let neededLog = logs.last { $0.zxid <= oldestKept }?.zxid
        for log in logs where log.zxid < oldestKept && log.zxid != neededLog {
            let path = logDirectory + "/" + log.name
            try FileIO.remove(path)
            result.removedLogs.append(path)
        }
        for snapshot in try store.list() where snapshot.zxid < oldestKept {
            try FileIO.remove(snapshot.path)
            result.removedSnapshots.append(snapshot.path)
        }
        if !result.removedLogs.isEmpty { try FileIO.syncDirectory(logDirectory) }
        if !result.removedSnapshots.isEmpty { try FileIO.syncDirectory(store.directory) }
        return result
    }
}
