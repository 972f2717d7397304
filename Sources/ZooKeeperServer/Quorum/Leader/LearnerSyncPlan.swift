import ZooKeeperProtocol

/// How the leader brings one learner up to date (`LearnerHandler.syncFollower` and
/// `queueCommittedProposals`, Apache 3.8): DIFF with the committed proposals the learner lacks, TRUNC when it
/// holds proposals the leader never committed (same epoch only), or a SNAP of the whole tree.
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
    static func plan(peerLastZxid: Int64, committedLog: [LoggedTxn], lastProcessedZxid: Int64) -> LearnerSyncPlan {
        let isPeerNewEpochZxid = Zxid.counter(peerLastZxid) == 0
        let minCommitted = committedLog.first?.zxid ?? lastProcessedZxid
        let maxCommitted = committedLog.last?.zxid ?? lastProcessedZxid
        let snap = LearnerSyncPlan(mode: .snap, proposals: [], lastQueuedZxid: lastProcessedZxid)

        if peerLastZxid == lastProcessedZxid {
            return LearnerSyncPlan(mode: .diff(peerLastZxid), proposals: [], lastQueuedZxid: peerLastZxid)
        }
        if peerLastZxid > maxCommitted && !isPeerNewEpochZxid {
            return LearnerSyncPlan(mode: .trunc(maxCommitted), proposals: [], lastQueuedZxid: maxCommitted)
        }
        guard minCommitted <= peerLastZxid && peerLastZxid <= maxCommitted else {
            // Older than what we keep in memory (we do not read proposals back from the log): a SNAP.
            return snap
        }
        // queueCommittedProposals over the committed log.
        var mode: Mode?
        var proposals: [LoggedTxn] = []
        var queued = peerLastZxid
        var previous: Int64 = -1
        for txn in committedLog {
            let zxid = txn.zxid
            if zxid < peerLastZxid {
                previous = zxid
                continue
            }
            if mode == nil {
                if zxid == peerLastZxid {
                    mode = .diff(maxCommitted)
                    continue
                }
                if isPeerNewEpochZxid {
                    mode = .diff(maxCommitted)
                } else if zxid > peerLastZxid {
                    // The learner holds a proposal we never committed: cut it, unless the epochs differ.
                    guard Zxid.epoch(zxid) == Zxid.epoch(peerLastZxid) else { return snap }
                    mode = .trunc(previous)
                }
            }
            if zxid <= queued { continue }
            proposals.append(txn)
            queued = zxid
        }
        if mode == nil && isPeerNewEpochZxid { mode = .diff(maxCommitted) }
        guard let mode else { return snap }
        return LearnerSyncPlan(mode: mode, proposals: proposals, lastQueuedZxid: queued)
    }
}
