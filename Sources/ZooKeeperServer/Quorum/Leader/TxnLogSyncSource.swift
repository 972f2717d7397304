/// The older history a leader reads back from its txn log files for a learner whose last zxid is before the
/// in-memory committed log (Apache 3.8 `ZKDatabase.getProposalsFromTxnLog`, `calculateTxnLogSizeLimit` and
/// `FileTxnLog.FileTxnIterator`). The rules are pure so the driver only lists files, sizes and reads txns.
struct TxnLogSyncSource: Sendable, Equatable {
    /// The zxid of the first txn the iterator opens on (the first of the oldest file selected); nil: no log.
    var firstZxid: Int64?
    /// Apache's `FileTxnIterator.getStorageSize()`: the bytes of the selected files *except* the one it
    /// opened first (Apache removes that one from its list before summing).
    var storageSize: Int64
    /// The txns from the start of that file onwards, oldest first, as logged (header, body and digest).
    /// The reader may stop after the first txn newer than the committed log's first: the plan never goes
    /// past it (`queueCommittedProposals` with `maxZxid = minCommittedLog`).
    var txns: [LoggedTxn]

    /// One txn log file: the zxid in its name (`log.<hex>`) and its length in bytes.
    struct File: Sendable, Equatable {
        var zxid: Int64
        var size: Int64
    }

    /// The files `FileTxnIterator.init` would read for `peerLastZxid`, oldest first, and their
    /// storage size as Apache counts it. Apache takes, newest first, every file named at or after the zxid
    /// and then the first file named before it (which may hold it).
    static func selectFiles(_ files: [File], peerLastZxid: Int64) -> (files: [File], storageSize: Int64) {
        var selected: [File] = []
        for file in files.sorted(by: { $0.zxid > $1.zxid }) {
            selected.append(file)
            if file.zxid < peerLastZxid { break }
        }
        // goToNextLog() removes the oldest before getStorageSize() is asked (an Apache quirk we keep, so the
        // limit admits exactly what Apache's would).
        let storageSize = selected.dropLast().reduce(Int64(0)) { $0 &+ $1.size }
        return (selected.reversed(), storageSize)
    }

    /// `calculateTxnLogSizeLimit`: `(long) (snapSize * snapshotSizeFactor)`; 0 (no snapshot, or a factor
    /// of 0) means no limit to `getProposalsFromTxnLog`.
    static func sizeLimit(lastSnapshotSize: Int64, snapshotSizeFactor: Double) -> Int64 {
        let limit = (Double(lastSnapshotSize) * snapshotSizeFactor).rounded(.towardZero)
        // Java's (long) cast saturates and maps NaN to 0; Swift's Int64(_:) would trap.
        guard limit.isFinite else { return limit.isNaN ? 0 : (limit > 0 ? .max : .min) }
        if limit >= 9.2e18 { return .max }
        if limit <= -9.2e18 { return .min }
        return Int64(limit)
    }

    /// Whether `getProposalsFromTxnLog(peerLastZxid, sizeLimit)` returns these txns rather than an empty
    /// iterator: a negative limit disables it; the log must start at or before the learner's zxid (else
    /// we cannot be sure nothing between is missing); and a positive limit must cover the storage size.
    func admits(peerLastZxid: Int64, sizeLimit: Int64) -> Bool {
        if sizeLimit < 0 { return false }
        if let firstZxid, firstZxid > peerLastZxid { return false }
        if sizeLimit > 0 && storageSize > sizeLimit { return false }
        return true
    }
}

extension LearnerSyncPlan {
    /// Whether `syncFollower` would look in the txn log for this learner (its case 5): the learner is older
    /// than the committed log, is not in sync nor ahead, and `snapshotSizeFactor` is not negative. The
    /// driver reads the log only then, and only as far as `TxnLogSyncSource.admits` allows.
    static func needsTxnLog(peerLastZxid: Int64, committedLog: [LoggedTxn], lastProcessedZxid: Int64,
                            snapshotSizeFactor: Double) -> Bool {
        // Older than the committed log's first zxid is all it takes: that is below its last and below our last
        // processed zxid too, so none of `plan`'s earlier cases (in sync, ahead, within the log) applies.
        peerLastZxid < committedBounds(committedLog, lastProcessedZxid: lastProcessedZxid).min && snapshotSizeFactor >= 0
    }

    /// `getminCommittedLog`/`getmaxCommittedLog`, or the last processed zxid for both when the log is empty.
    static func committedBounds(_ committedLog: [LoggedTxn], lastProcessedZxid: Int64) -> (min: Int64, max: Int64) {
        (committedLog.first?.zxid ?? lastProcessedZxid, committedLog.last?.zxid ?? lastProcessedZxid)
    }
}
