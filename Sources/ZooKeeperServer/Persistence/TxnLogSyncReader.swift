/// Reads the txns a leader needs to DIFF a learner from its txn log files (Apache 3.8
/// `ZKDatabase.getProposalsFromTxnLog` over `FileTxnIterator`), bounded: nothing is read past the size
/// check, and reading stops after the first txn newer than `through` (the committed log's first zxid).
///
/// Unlike Apache, entries older than the member's `historyBase` are never used: files older than its last
/// SNAP may still hold proposals that history discarded (`restart(after:)` keeps them, as Apache does), and
/// a jump to the first txn of a new epoch would pass the contiguity check below.
///
/// Safe to run beside the log's writer on another thread: files are only read, and a record still being
/// written reads as a torn tail, where reading stops. Stopping early is never unsafe: the sync plan then
/// sees a gap before the committed log and sends a SNAP.
enum TxnLogSyncReader {
    /// - Parameters:
    ///   - logDirectory: the `version-2` directory holding `log.<zxid>` files.
    ///   - peerLastZxid: the learner's last zxid.
    ///   - sizeLimit: `TxnLogSyncSource.sizeLimit(...)`; negative: read nothing.
    ///   - through: the zxid after which no txn is needed.
    ///   - historyBase: the zxid this member's history was loaded or received at (a snapshot, a SNAP):
    ///     older entries may be proposals that history discarded, so they are never used.
    /// - Returns: the source for `LearnerSyncPlan.plan`, or nil when Apache's iterator would be empty
    ///   (over the limit, disabled, or a log that starts after the learner's zxid).
    static func read(logDirectory: String, peerLastZxid: Int64, sizeLimit: Int64,
                     through: Int64, historyBase: Int64 = 0) throws(PersistenceError) -> TxnLogSyncSource? {
        guard sizeLimit >= 0, peerLastZxid >= historyBase else { return nil }
        var files: [TxnLogSyncSource.File] = []
        var names: [Int64: String] = [:]
        for (zxid, name) in try PersistenceLayout.files(in: logDirectory, prefix: PersistenceLayout.logPrefix) {
            files.append(.init(zxid: zxid, size: Int64(try FileIO.fileSize(logDirectory + "/" + name))))
            names[zxid] = name
        }
        let selection = TxnLogSyncSource.selectFiles(files, peerLastZxid: peerLastZxid)
        // The size check comes before any txn is read (a file's name is its first zxid; the first txn
        // read below is checked again by the plan).
        var source = TxnLogSyncSource(firstZxid: selection.files.first?.zxid, storageSize: selection.storageSize, txns: [])
        guard source.admits(peerLastZxid: peerLastZxid, sizeLimit: sizeLimit) else { return nil }
        source.firstZxid = nil
        var last = Int64.min
        for file in selection.files {
            guard let name = names[file.zxid] else { break }
            let scan = try TxnLogScanner.scan(logDirectory + "/" + name)
            for record in scan.records where record.zxid >= historyBase {
                // Kept only when it re-encodes to the logged bytes: the PROPOSAL must be the log entry itself.
                // And only while no zxid is skipped: a jump means history this member did not log (it was
                // sent a SNAP in between), which Apache would read past; we stop, and the plan sends a SNAP.
                guard last == .min || PersistenceLayout.isContiguous(last, record.zxid),
                      let txn = try? LoggedTxn(decoding: record.entry), txn.encode() == record.entry
                else { return source }
                if source.firstZxid == nil { source.firstZxid = record.zxid }
                source.txns.append(txn)
                last = record.zxid
                if record.zxid > through { return source }
            }
            switch scan.ending {
            case .clean, .endMarker: continue
            case .torn, .corrupt, .incompleteHeader, .badHeader: return source
            }
        }
        return source
    }
}
