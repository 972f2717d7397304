import ZooKeeperProtocol

/// A follower's bookkeeping between its transaction log and its committed history, as a pure value:
/// the proposals logged and not yet committed, the group commit's owed ACKs, whether the history in memory is
/// ahead of the disk, and what a sync's `useLoggedHistory` does with the logged tail. ``FollowerDriver`` and
/// the ensemble simulation both keep one, so the simulation checks the decisions the driver makes.
struct FollowerLog: Sendable {
    /// Proposals logged after the committed history and not yet committed, oldest first.
    private(set) var tail: FIFO<LoggedTxn>
    /// The zxids written since the last fsync that owe the leader an ACK once it is done.
    private(set) var owedAcks: [Int64] = []
    /// Something was written since the last fsync.
    private(set) var needsSync = false
    /// The history holds what the disk does not: a SNAP, or commits applied in memory during a SNAP or
    /// TRUNC sync, until NEWLEADER's snapshot persists them. A role that ends so must start the next one
    /// from the disk (``FollowerDriver``'s `restoreDiskHistory`).
    private(set) var aheadOfDisk = false

    /// `uncommitted`: proposals logged (and acknowledged) in an earlier role and never seen committed.
    init(uncommitted: [LoggedTxn] = []) {
        tail = FIFO(uncommitted)
    }

    /// Whether `action` must wait for the group commit first. Only logging and committing may pass writes not
    /// yet fsynced; anything else (NEWLEADER's ACK, an epoch file, a snapshot, a PING reply) must not overtake
    /// what is logged, or the leader could count an ACK for a proposal a crash then loses.
    static func waitsForSync(_ action: LearnerStateMachine.Action) -> Bool {
        switch action {
        case .log, .commit: false
        default: true
        }
    }

    /// Proposals written to the log; durable (and acknowledged, if `acknowledge`) at the next ``synced()``.
    mutating func logged(_ txns: [LoggedTxn], acknowledge: Bool) {
        tail.append(contentsOf: txns)
        needsSync = true
        if acknowledge { owedAcks += txns.map(\.zxid) }
    }

    /// The fsync covering everything logged so far is done: the ACKs to send now, in zxid order.
    mutating func synced() -> [Int64] {
        needsSync = false
        defer { owedAcks = [] }
        return owedAcks
    }

    /// A COMMIT: the oldest logged proposal, now committed. Nil if the COMMIT names anything else — commits
    /// come strictly in zxid order, so the leader committed what this follower never logged, and it must leave.
    mutating func commit(_ zxid: Int64) -> LoggedTxn? {
        guard let first = tail.first, first.zxid == zxid else { return nil }
        return tail.popFirst()
    }

    /// What `useLoggedHistory` does with the log at the end of a DIFF or TRUNC sync.
    enum HistoryChoice: Equatable {
        /// The log goes beyond the leader's point: cut it back to `after` (a TRUNC, or a DIFF below our tail).
        case truncate(after: Int64)
        /// The logged proposals up to the leader's point join the committed history, in order.
        case replay([LoggedTxn])
    }

    /// The choice for `useLoggedHistory(zxid)`, where `committedThrough` is the last zxid of the committed
    /// history. The tail stays until ``historyAdopted()``: acknowledged proposals are dropped only once the
    /// history holds them.
    func history(upTo zxid: Int64, committedThrough: Int64) -> HistoryChoice {
        if zxid < (tail.last?.zxid ?? committedThrough) { return .truncate(after: zxid) }
        return .replay(logged(upTo: zxid))
    }

    /// The proposals logged up to `zxid` (a member without a log can only replay, never cut back).
    func logged(upTo zxid: Int64) -> [LoggedTxn] { tail.filter { $0.zxid <= zxid } }

    /// The history chosen by ``history(upTo:committedThrough:)`` is in place: the tail is part of it or cut.
    mutating func historyAdopted() {
        tail = FIFO()
    }

    /// A SNAP replaces the history: the tail is void, and the disk is behind until NEWLEADER's snapshot.
    mutating func snapshotIncoming() {
        aheadOfDisk = true
        tail = FIFO()
    }

    /// A commit applied in memory during the sync, without a log record (the disk is behind).
    mutating func appliedUnlogged() {
        aheadOfDisk = true
    }

    /// NEWLEADER's snapshot persisted the history in memory.
    mutating func snapshotTaken() {
        aheadOfDisk = false
    }

    /// The history was reloaded from the disk after a sync ended ahead of it: nothing logged is pending.
    mutating func restoredFromDisk() {
        tail = FIFO()
        aheadOfDisk = false
    }
}
