import ZooKeeperProtocol
@testable import ZooKeeperServer

extension EnsembleSimulation {
    /// A member's disk as `QuorumStorage` keeps it: snapshots, log files named by their first zxid, written
    /// entries not yet fsynced (a crash keeps only some of them, in order), and the two epoch files (written
    /// and fsynced at once, as `EpochFiles` does).
    struct Disk {
        /// Each snapshot is the history through its last zxid.
        var snapshots: [[LoggedTxn]] = []
        /// Log files in creation order; a file's name is its first entry's zxid.
        var files: [[LoggedTxn]] = []
        /// Appended to the last file but not fsynced.
        var unsynced: [LoggedTxn] = []
        /// Set by `restart`/`truncate`: the next append opens a new file (`TxnLog` reopened).
        var startNewFile = true
        var acceptedEpoch: Int64 = 0
        var currentEpoch: Int64 = 0

        mutating func write(_ txns: [LoggedTxn]) {
            guard !txns.isEmpty else { return }
            if startNewFile {
                sync()
                files.append([])
                startNewFile = false
            }
            unsynced += txns
        }

        mutating func sync() {
            guard !unsynced.isEmpty else { return }
            files[files.count - 1] += unsynced
            unsynced = []
        }

        /// The process died: the page cache keeps a prefix of what was written and not fsynced.
        mutating func crash(keeping count: Int) {
            unsynced = Array(unsynced.prefix(count))
            sync()
            startNewFile = true
        }

        /// After a SNAP: later appends go to a new file (`QuorumStorage.restart(after:)`).
        mutating func restart() {
            sync()
            startNewFile = true
        }

        mutating func takeSnapshot(_ history: [LoggedTxn]) {
            sync()
            snapshots.append(history)
        }

        /// TRUNC (`QuorumStorage.truncate(after:)`): entries above `zxid` go from every file, snapshots newer
        /// than it too; the history is then recovered again.
        mutating func truncate(after zxid: Int64) throws(RecoveryFailure) -> [LoggedTxn] {
            sync()
            files = files.map { $0.filter { $0.zxid <= zxid } }
            snapshots.removeAll { ($0.last?.zxid ?? 0) > zxid }
            startNewFile = true
            return try recover()
        }

        /// `QuorumStorage.reload()`: the history on disk; later appends open a new file.
        mutating func reload() throws(RecoveryFailure) -> [LoggedTxn] {
            restart()
            return try recover()
        }

        /// `Recovery.recover` + `QuorumStorage.load`: the newest snapshot, then every log entry after it from
        /// the newest file named at or before it onwards. An entry that goes back ends the replay (a torn or
        /// stale tail). A gap is a failure here, stricter than `Recovery`, which warns and replays across it:
        /// a member would come back missing the transactions in between.
        func recover() throws(RecoveryFailure) -> [LoggedTxn] {
            var history = snapshots.last ?? []
            let snapshotZxid = history.last?.zxid ?? 0
            let named = files.filter { !$0.isEmpty }
            let first = named.lastIndex { $0[0].zxid <= snapshotZxid } ?? 0
            var covered = snapshotZxid
            replay: for file in named.dropFirst(first) {
                for txn in file where txn.zxid > snapshotZxid {
                    if txn.zxid <= covered { break replay }
                    if covered != 0 && !PersistenceLayout.isContiguous(covered, txn.zxid) {
                        throw RecoveryFailure(reason: "transactions missing between \(Zxid.hex(covered)) and \(Zxid.hex(txn.zxid))")
                    }
                    history.append(txn)
                    covered = txn.zxid
                }
            }
            return history
        }

        /// Every zxid the files hold, in file order (what a leader's txn log reader would see).
        var loggedTxns: [LoggedTxn] { files.flatMap { $0 } + unsynced }
    }

    struct RecoveryFailure: Error {
        var reason: String
    }
}
