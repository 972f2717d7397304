import ZooKeeperProtocol

/// How the leader brings one learner up to date (`LearnerHandler.syncFollower` and
/// `queueCommittedProposals`, Apache 3.8): DIFF with the committed proposals the learner lacks (from the
/// in-memory committed log, or for an older learner from the txn log and then the committed log), TRUNC when
/// it holds proposals the leader never committed (same epoch only), or a SNAP of the whole tree.
struct LearnerSyncPlan: Sendable, Equatable {
    enum Mode: Sendable, Equatable {
        case diff(Int64)
        case trunc(Int64)
        case snap
    }

    var mode: Mode
    /// Committed proposals to send after the mode packet, each as PROPOSAL + COMMIT.
    var proposals: [LoggedTxn]
    /// The newest zxid the learner will hold after this plan (where forwarding starts).
    var lastQueuedZxid: Int64

    /// - Parameters:
    ///   - peerLastZxid: the learner's last logged zxid (from ACKEPOCH).
    ///   - committedLog: the leader's recent committed proposals, oldest first.
    ///   - lastProcessedZxid: the leader's last applied zxid.
    ///   - txnLog: what the leader read back from its txn log when `needsTxnLog` said to (nil: not read).
    ///   - snapshotSizeFactor: `zookeeper.snapshotSizeFactor`; negative: never sync from the txn log.
    ///   - lastSnapshotSize: the byte size of the newest snapshot file (0: none), for the size limit.
    static func plan(peerLastZxid: Int64, committedLog: [LoggedTxn], lastProcessedZxid: Int64,
                     txnLog: TxnLogSyncSource? = nil, snapshotSizeFactor: Double = -1,
                     lastSnapshotSize: Int64 = 0) -> LearnerSyncPlan {
        let isPeerNewEpochZxid = Zxid.counter(peerLastZxid) == 0
        let (minCommitted, maxCommitted) = committedBounds(committedLog, lastProcessedZxid: lastProcessedZxid)
        let snap = LearnerSyncPlan(mode: .snap, proposals: [], lastQueuedZxid: lastProcessedZxid)

        if peerLastZxid == lastProcessedZxid {
            return LearnerSyncPlan(mode: .diff(peerLastZxid), proposals: [], lastQueuedZxid: peerLastZxid)
        }
        if peerLastZxid > maxCommitted && !isPeerNewEpochZxid {
            return LearnerSyncPlan(mode: .trunc(maxCommitted), proposals: [], lastQueuedZxid: maxCommitted)
        }
        var queue = ProposalQueue(lastCommittedZxid: maxCommitted)
        if minCommitted <= peerLastZxid && peerLastZxid <= maxCommitted {
            let queued = queue.add(committedLog, peerLastZxid: peerLastZxid, maxZxid: nil)
            return queue.plan(lastQueuedZxid: queued) ?? snap
        }
        // Older than the committed log: the txn log, then the committed log (syncFollower's case 5).
        guard peerLastZxid < minCommitted, snapshotSizeFactor >= 0, let txnLog else { return snap }
        let sizeLimit = TxnLogSyncSource.sizeLimit(lastSnapshotSize: lastSnapshotSize, snapshotSizeFactor: snapshotSizeFactor)
        guard txnLog.admits(peerLastZxid: peerLastZxid, sizeLimit: sizeLimit), !txnLog.txns.isEmpty else { return snap }
        let fromLog = queue.add(txnLog.txns, peerLastZxid: peerLastZxid, maxZxid: minCommitted)
        // A gap between the end of the txn log and the committed log (or a cross-epoch TRUNC): a SNAP.
        guard fromLog >= minCommitted else { return snap }
        let queued = queue.add(committedLog, peerLastZxid: fromLog, maxZxid: nil)
        return queue.plan(lastQueuedZxid: queued) ?? snap
    }
}

/// `LearnerHandler.queueCommittedProposals`, over one or more histories in turn: the first call decides
/// DIFF or TRUNC, each queues the proposals newer than what is queued already (so none is sent twice).
private struct ProposalQueue {
    let lastCommittedZxid: Int64
    var mode: LearnerSyncPlan.Mode?
    var proposals: [LoggedTxn] = []

    init(lastCommittedZxid: Int64) {
        self.lastCommittedZxid = lastCommittedZxid
    }

    /// Returns the newest zxid queued (`peerLastZxid` when none). Stops past `maxZxid`; returns early,
    /// with no mode, when only a TRUNC across an epoch boundary would do (the learner would crash).
    mutating func add(_ history: [LoggedTxn], peerLastZxid: Int64, maxZxid: Int64?) -> Int64 {
        let isPeerNewEpochZxid = Zxid.counter(peerLastZxid) == 0
        var queued = peerLastZxid
        var previous: Int64 = -1
        for txn in history {
            let zxid = txn.zxid
            if let maxZxid, zxid > maxZxid { break }
            if zxid < peerLastZxid {
                previous = zxid
                continue
            }
            if mode == nil {
                if zxid == peerLastZxid {
                    mode = .diff(lastCommittedZxid)
                    continue
                }
                if isPeerNewEpochZxid {
                    mode = .diff(lastCommittedZxid)
                } else if zxid > peerLastZxid {
                    // The learner holds a proposal we never committed: cut it, unless the epochs differ.
                    guard Zxid.epoch(zxid) == Zxid.epoch(peerLastZxid) else { return queued }
                    mode = .trunc(previous)
                }
            }
            if zxid <= queued { continue }
            proposals.append(txn)
            queued = zxid
        }
        if mode == nil && isPeerNewEpochZxid { mode = .diff(lastCommittedZxid) }
        return queued
    }

    /// The plan, or nil when no DIFF/TRUNC was decided (the caller sends a SNAP).
    func plan(lastQueuedZxid: Int64) -> LearnerSyncPlan? {
        guard let mode else { return nil }
        return LearnerSyncPlan(mode: mode, proposals: proposals, lastQueuedZxid: lastQueuedZxid)
    }
}
