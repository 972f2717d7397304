import ZooKeeperProtocol

/// ZAB's leader side (Apache's `Leader.lead` with one `LearnerHandler` per learner) as a pure state
/// machine: learner connections, packets and clock ticks in; packets, durable promises, commits and the
/// decision to step down out. Learners are named by the driver's connection handles.
///
/// The rules, all Apache's:
/// - the epoch is max(accepted epochs of a quorum that sent FOLLOWERINFO, ours) + 1, made durable as
///   acceptedEpoch before any LEADERINFO, and as currentEpoch once a quorum has acknowledged it;
/// - a learner whose history is more recent than ours is refused;
/// - nothing is proposed before a quorum acknowledged NEWLEADER; then UPTODATE;
/// - a proposal commits on a quorum of acks (ours included), strictly in zxid order;
/// - a leader that hears from less than a quorum for a syncLimit steps down, and a learner that leaves
///   a proposal unacknowledged for a syncLimit is dropped.
struct LeaderStateMachine<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    typealias Handle = Int

    struct Settings: Sendable {
        var myID: Int64
        var configuration: QuorumConfiguration
        var tickTime: Duration
        var initLimit: Int
        var syncLimit: Int
        /// Committed proposals kept in memory for DIFF syncs (`zookeeper.commitLogCount`).
        var committedLogCount = 500
        /// `zookeeper.snapshotSizeFactor`: a learner older than the committed log is synced from the txn log
        /// when that is smaller than this fraction of the newest snapshot; negative (no disk) never does.
        var snapshotSizeFactor: Double = -1
    }

    enum Phase: Sendable, Equatable {
        /// Waiting for a quorum of FOLLOWERINFO to choose the epoch.
        case discovery
        /// Epoch chosen; waiting for a quorum of ACKEPOCH.
        case awaitingEpochAcks
        /// Learners synced; waiting for a quorum of NEWLEADER ACKs.
        case awaitingNewLeaderAcks
        case broadcast
        case failed
    }

    enum Action: Sendable, Equatable {
        case send(Handle, QuorumPacket)
        /// Write the database's SNAP stream to `handle` now (right after the SNAP packet).
        case sendSnapshot(Handle)
        /// Read the txns after `peerLastZxid` from our txn log (`TxnLogSyncReader`, through `through`), then
        /// report them with ``LeaderStateMachine/txnLogRead(_:peerLastZxid:source:lastSnapshotSize:)``.
        case readTxnLog(Handle, peerLastZxid: Int64, through: Int64)
        case close(Handle, String)
        case persistAcceptedEpoch(Int64)
        case persistCurrentEpoch(Int64)
        /// A quorum acknowledged NEWLEADER: the leader serves in `epoch`.
        case established(epoch: Int64)
        /// Log our own proposal (then report ``LeaderStateMachine/logged(_:now:)``).
        case log(LoggedTxn)
        /// A quorum holds `zxid`: apply it and answer its client.
        case commit(Int64)
        /// A learner forwarded a client request.
        case request(Handle, from: Int64, QuorumPacket)
        /// A learner's PING reply: its sessions' touches (`long sessionId, int timeout` pairs).
        case touch(from: Int64, [UInt8])
        /// A learner asks whether a session may move to it.
        case revalidate(Handle, sessionId: Int64, timeout: Int32)
        /// Give up leadership (back to LOOKING).
        case fail(String)
    }

    private enum Stage: Sendable, Equatable {
        case awaitingInfo
        case awaitingEpoch
        case awaitingAckEpoch
        case awaitingEpochQuorum(peerLastZxid: Int64)
        /// Our txn log is being read for this learner's sync (off the leader's thread).
        case awaitingTxnLog(peerLastZxid: Int64)
        case awaitingNewLeaderAck
        case awaitingStart
        case synced
    }

    private struct Learner: Sendable {
        var stage = Stage.awaitingInfo
        var sid: Int64 = -1
        var isParticipant = false
        var acceptedEpoch: Int64 = -1
        var lastHeard: Instant
    }

    private struct Proposal: Sendable {
        var txn: LoggedTxn
        var acks: Set<Int64> = []
        var proposedAt: Instant
    }

    let settings: Settings
    private(set) var phase = Phase.discovery
    /// The epoch being established (or established).
    private(set) var epoch: Int64 = -1
    private(set) var lastCommitted: Int64
    private(set) var lastProposed: Int64
    private var acceptedEpoch: Int64
    private var currentEpoch: Int64
    private var lastProcessedZxid: Int64
    /// The recent committed proposals, oldest first: up to twice ``Settings/committedLogCount``, trimmed in bulk
    /// (trimming one per commit moved the whole log each time); ``committedLog`` is the newest committedLogCount.
    private var committedHistory: [LoggedTxn]
    private var learners: [Handle: Learner] = [:]
    private var connecting: [Int64: Int64] = [:]
    private var electing: Set<Int64> = []
    private var newLeaderAcks: Set<Int64> = []
    /// Proposals not yet committed, oldest first; their zxids are consecutive (``propose(_:now:)`` takes only the next).
    private var outstanding = FIFO<Proposal>()
    private var phaseDeadline: Instant
    private var nextPing: Instant

    init(settings: Settings, acceptedEpoch: Int64, currentEpoch: Int64, lastProcessedZxid: Int64, committedLog: [LoggedTxn], now: Instant) {
        self.settings = settings
        self.acceptedEpoch = acceptedEpoch
        self.currentEpoch = currentEpoch
        self.lastProcessedZxid = lastProcessedZxid
        self.committedHistory = Array(committedLog.suffix(settings.committedLogCount))
        self.lastCommitted = lastProcessedZxid
        self.lastProposed = lastProcessedZxid
        self.phaseDeadline = now.advanced(by: settings.tickTime * settings.initLimit)
        self.nextPing = now
        connecting[settings.myID] = acceptedEpoch
    }

    private var configuration: QuorumConfiguration { settings.configuration }

    /// The newest committed proposals a learner may be sent by DIFF (Apache's `committedLog`, `commitLogCount` long).
    private var committedLog: [LoggedTxn] { Array(committedHistory.suffix(settings.committedLogCount)) }
    private var myID: Int64 { settings.myID }
    private var syncLimit: Duration { settings.tickTime * settings.syncLimit }

    /// The sid a learner connection introduced itself with (nil before FOLLOWERINFO/OBSERVERINFO).
    func learnerID(_ handle: Handle) -> Int64? { learners[handle].flatMap { $0.sid >= 0 ? $0.sid : nil } }
    private var initLimit: Duration { settings.tickTime * settings.initLimit }

    /// The zxid the next proposal must carry.
    var nextZxid: Int64 { lastProposed + 1 }
    /// Whether proposals may be made.
    var isEstablished: Bool { phase == .broadcast }
    /// Participants synced with us, ourselves included (`zk_synced_followers` counts the others).
    var syncedParticipants: Set<Int64> {
        Set(learners.values.filter { $0.stage == .synced && $0.isParticipant }.map(\.sid)).union([myID])
    }
    var learnerCount: Int { learners.values.filter { $0.sid >= 0 }.count }

    var nextDeadline: Instant? {
        switch phase {
        case .discovery, .awaitingEpochAcks, .awaitingNewLeaderAcks: phaseDeadline
        case .broadcast: nextPing
        case .failed: nil
        }
    }

    // MARK: Learner connections

    mutating func connected(_ handle: Handle, now: Instant) {
        learners[handle] = Learner(lastHeard: now)
    }

    mutating func disconnected(_ handle: Handle) {
        learners[handle] = nil
    }

    mutating func receive(_ packet: QuorumPacket, from handle: Handle, now: Instant) -> [Action] {
        guard phase != .failed, var learner = learners[handle] else { return [] }
        learner.lastHeard = now
        learners[handle] = learner
        switch learner.stage {
        case .awaitingInfo: return learnerInfo(packet, from: handle)
        case .awaitingAckEpoch: return ackEpoch(packet, from: handle)
        case .awaitingNewLeaderAck: return newLeaderAck(packet, from: handle)
        case .awaitingEpoch, .awaitingEpochQuorum, .awaitingTxnLog, .awaitingStart, .synced:
            return following(packet, from: handle, now: now)
        }
    }

    // MARK: Discovery

    private mutating func learnerInfo(_ packet: QuorumPacket, from handle: Handle) -> [Action] {
        guard packet.kind == .followerInfo || packet.kind == .observerInfo else {
            return drop(handle, "first packet \(packet.summary) is not FOLLOWERINFO or OBSERVERINFO")
        }
        var reader = JuteReader(packet.data ?? [])
        guard let info = try? reader.read(LearnerInfo.self) else { return drop(handle, "malformed LearnerInfo") }
        guard info.configVersion <= configuration.version else {
            return drop(handle, "follower is ahead of the leader (config version \(info.configVersion))")
        }
        guard info.serverid != myID else { return drop(handle, "a learner claims our own sid") }
        var learner = learners[handle]!
        learner.sid = info.serverid
        learner.isParticipant = packet.kind == .followerInfo && configuration.isVoter(info.serverid)
        learner.acceptedEpoch = Zxid.epoch(packet.zxid)
        learner.stage = .awaitingEpoch
        learners[handle] = learner
        if phase == .discovery {
            if learner.isParticipant { connecting[learner.sid] = learner.acceptedEpoch }
            guard configuration.isQuorum(connecting.keys) else { return [] }
            // getEpochToPropose: one more than any accepted epoch in the quorum.
            epoch = connecting.values.max()! + 1
            acceptedEpoch = epoch
            phase = .awaitingEpochAcks
            var actions: [Action] = [.persistAcceptedEpoch(epoch)]
            for (other, peer) in learners.sorted(by: { $0.key < $1.key }) where peer.stage == .awaitingEpoch { actions += sendLeaderInfo(other) }
            return actions
        }
        return sendLeaderInfo(handle)
    }

    private mutating func sendLeaderInfo(_ handle: Handle) -> [Action] {
        learners[handle]!.stage = .awaitingAckEpoch
        var data = JuteWriter()
        data.write(QuorumPacket.protocolVersion)
        return [.send(handle, QuorumPacket(.leaderInfo, zxid: Zxid.make(epoch: epoch, counter: 0), data: data.bytes))]
    }

    private mutating func ackEpoch(_ packet: QuorumPacket, from handle: Handle) -> [Action] {
        guard packet.kind == .ackEpoch else { return drop(handle, "expected ACKEPOCH, got \(packet.summary)") }
        var reader = JuteReader(packet.data ?? [])
        guard let learnerEpoch = try? reader.readInt32() else { return drop(handle, "malformed ACKEPOCH") }
        let learner = learners[handle]!
        if learnerEpoch != -1 {
            // StateSummary.isMoreRecentThan: a learner ahead of us must not be synced to our history.
            if (Int64(learnerEpoch), packet.zxid) > (currentEpoch, lastProcessedZxid) {
                return drop(handle, "learner \(learner.sid) is more recent than the leader (epoch \(learnerEpoch), \(Zxid.hex(packet.zxid)))")
            }
        }
        guard phase == .awaitingEpochAcks else {
            // The epoch is established already: sync at once.
            return synchronize(handle, peerLastZxid: packet.zxid)
        }
        // waitForEpochAck counts a participant that sent its epoch (not -1) and a zxid.
        if learner.isParticipant && learnerEpoch != -1 && packet.zxid != -1 {
            electing.insert(learner.sid)
        }
        learners[handle]!.stage = .awaitingEpochQuorum(peerLastZxid: packet.zxid)
        guard configuration.isQuorum(electing.union([myID])) else { return [] }
        phase = .awaitingNewLeaderAcks
        currentEpoch = epoch
        var actions: [Action] = [.persistCurrentEpoch(epoch)]
        for (other, peer) in learners.sorted(by: { $0.key < $1.key }) {
            if case let .awaitingEpochQuorum(zxid) = peer.stage { actions += synchronize(other, peerLastZxid: zxid) }
        }
        return actions
    }

    // MARK: Synchronization

    private mutating func synchronize(_ handle: Handle, peerLastZxid: Int64) -> [Action] {
        if LearnerSyncPlan.needsTxnLog(peerLastZxid: peerLastZxid, committedLog: committedLog, lastProcessedZxid: lastProcessedZxid,
                                       snapshotSizeFactor: settings.snapshotSizeFactor) {
            // Nothing is sent until the log is read; the plan is then made against the committed log of that
            // moment (a log that no longer reaches it is a gap, hence a SNAP).
            learners[handle]!.stage = .awaitingTxnLog(peerLastZxid: peerLastZxid)
            let through = LearnerSyncPlan.committedBounds(committedLog, lastProcessedZxid: lastProcessedZxid).min
            return [.readTxnLog(handle, peerLastZxid: peerLastZxid, through: through)]
        }
        let plan = LearnerSyncPlan.plan(peerLastZxid: peerLastZxid, committedLog: committedLog, lastProcessedZxid: lastProcessedZxid)
        return sendSync(plan, to: handle, fromTxnLog: false)
    }

    /// The txn log read for a learner (nil: none usable): its DIFF, TRUNC or SNAP follows. Ignored when the
    /// learner is gone or no longer waiting for it.
    mutating func txnLogRead(_ handle: Handle, peerLastZxid: Int64, source: TxnLogSyncSource?, lastSnapshotSize: Int64) -> [Action] {
        guard phase != .failed, learners[handle]?.stage == .awaitingTxnLog(peerLastZxid: peerLastZxid) else { return [] }
        let plan = LearnerSyncPlan.plan(peerLastZxid: peerLastZxid, committedLog: committedLog, lastProcessedZxid: lastProcessedZxid,
                                        txnLog: source, snapshotSizeFactor: settings.snapshotSizeFactor, lastSnapshotSize: lastSnapshotSize)
        return sendSync(plan, to: handle, fromTxnLog: true)
    }

    /// Syncs chosen so far, by mode (`fromTxnLog`: DIFFs and TRUNCs that used the txn log), for stats and tests.
    private(set) var syncCounts = SyncCounts()

    struct SyncCounts: Sendable, Equatable {
        var diff = 0
        var trunc = 0
        var snap = 0
        var fromTxnLog = 0
    }

    private mutating func sendSync(_ plan: LearnerSyncPlan, to handle: Handle, fromTxnLog: Bool) -> [Action] {
        var actions: [Action] = []
        switch plan.mode {
        case .diff: syncCounts.diff += 1
        case .trunc: syncCounts.trunc += 1
        case .snap: syncCounts.snap += 1
        }
        if case .snap = plan.mode { metrics.snaps += 1 } else { metrics.diffs += 1 }  // LearnerHandler.syncFollower
        if fromTxnLog && plan.mode != .snap { syncCounts.fromTxnLog += 1 }
        switch plan.mode {
        case let .diff(zxid): actions.append(.send(handle, QuorumPacket(.diff, zxid: zxid)))
        case let .trunc(zxid): actions.append(.send(handle, QuorumPacket(.trunc, zxid: zxid)))
        case .snap: actions += [.send(handle, QuorumPacket(.snap, zxid: lastProcessedZxid)), .sendSnapshot(handle)]
        }
        for txn in plan.proposals {
            actions.append(.send(handle, QuorumPacket(.proposal, zxid: txn.zxid, data: txn.encode())))
            actions.append(.send(handle, QuorumPacket(.commit, zxid: txn.zxid)))
        }
        // startForwarding: proposals made since (never committed yet) follow, for participants.
        if learners[handle]!.isParticipant {
            for proposal in outstanding where proposal.txn.zxid > plan.lastQueuedZxid {
                actions.append(.send(handle, QuorumPacket(.proposal, zxid: proposal.txn.zxid, data: proposal.txn.encode())))
            }
        }
        let config = Array(configuration.configString.utf8)
        actions.append(.send(handle, QuorumPacket(.newLeader, zxid: Zxid.make(epoch: epoch, counter: 0), data: config)))
        learners[handle]!.stage = .awaitingNewLeaderAck
        return actions
    }

    private mutating func newLeaderAck(_ packet: QuorumPacket, from handle: Handle) -> [Action] {
        guard packet.kind == .ack else { return drop(handle, "expected the NEWLEADER ACK, got \(packet.summary)") }
        let learner = learners[handle]!
        learners[handle]!.stage = .awaitingStart
        if packet.zxid == Zxid.make(epoch: epoch, counter: 0) && learner.isParticipant {
            newLeaderAcks.insert(learner.sid)
        }
        if phase == .broadcast { return upToDate(handle) }
        guard phase == .awaitingNewLeaderAcks, configuration.isQuorum(newLeaderAcks.union([myID])) else { return [] }
        // Everything we held is now on a quorum: it is committed in the new epoch.
        phase = .broadcast
        lastCommitted = Zxid.make(epoch: epoch, counter: 0)
        lastProposed = lastCommitted
        var actions: [Action] = [.established(epoch: epoch)]
        for (other, peer) in learners.sorted(by: { $0.key < $1.key }) where peer.stage == .awaitingStart {
            actions += upToDate(other)
        }
        return actions
    }

    private mutating func upToDate(_ handle: Handle) -> [Action] {
        learners[handle]!.stage = .synced
        return [.send(handle, QuorumPacket(.upToDate, zxid: -1))]
    }

    // MARK: Broadcast

    private mutating func following(_ packet: QuorumPacket, from handle: Handle, now: Instant) -> [Action] {
        let sid = learners[handle]!.sid
        switch packet.kind {
        case .ack:
            return acknowledge(packet.zxid, from: sid, now: now)
        case .ping:
            return packet.data.map { $0.isEmpty ? [] : [.touch(from: sid, $0)] } ?? []
        case .request:
            return [.request(handle, from: sid, packet)]
        case .revalidate:
            var reader = JuteReader(packet.data ?? [])
            guard let session = try? reader.readInt64(), let timeout = try? reader.readInt32() else {
                return drop(handle, "malformed REVALIDATE")
            }
            return [.revalidate(handle, sessionId: session, timeout: timeout)]
        default:
            return drop(handle, "unexpected \(packet.summary)")
        }
    }

    /// The sizes of the proposals made (`srvr`'s "Proposal sizes", the admin server's `proposal_stats`).
    private(set) var proposalSizes = BufferStats()

    /// What Apache's ServerMetrics count here since the driver last took them (``takeMetrics()``): the driver
    /// adds them to the server's metrics once per loop turn, not once per packet.
    struct Metrics: Sendable, Equatable {
        var proposals: Int64 = 0
        var commits: Int64 = 0
        /// DIFF and TRUNC syncs (Apache's DIFF_COUNT counts every sync that is not a SNAP), and SNAPs.
        var diffs: Int64 = 0
        var snaps: Int64 = 0
        /// Milliseconds from each proposal to its quorum of ACKs, in commit order.
        var quorumAckLatencies: [Int64] = []
    }
    private var metrics = Metrics()

    /// The metrics counted since the last call (nil: nothing happened).
    mutating func takeMetrics() -> Metrics? {
        guard metrics != Metrics() else { return nil }
        defer { metrics = Metrics() }
        return metrics
    }

    /// Proposes `txn` (its zxid must be ``nextZxid``) to every participant that is synced or syncing.
    mutating func propose(_ txn: LoggedTxn, now: Instant) -> [Action] {
        guard phase == .broadcast else { return [] }
        guard txn.zxid == nextZxid else { return fail("proposal \(Zxid.hex(txn.zxid)) out of order (next is \(Zxid.hex(nextZxid)))") }
        guard Zxid.counter(txn.zxid) < 0xffff_ffff else {
            // ZxidRolloverTest: the counter must not wrap into the next epoch; a new election starts one.
            return fail("zxid counter exhausted in epoch \(epoch): a new epoch is needed")
        }
        lastProposed = txn.zxid
        outstanding.append(Proposal(txn: txn, proposedAt: now))
        var actions: [Action] = [.log(txn)]
        let data = txn.encode()
        proposalSizes.record(Int64(data.count))  // Apache's Leader.propose: proposalStats
        metrics.proposals += 1  // PROPOSAL_COUNT
        let packet = QuorumPacket(.proposal, zxid: txn.zxid, data: data)
        for (handle, learner) in learners.sorted(by: { $0.key < $1.key }) where learner.isParticipant && isForwarding(learner.stage) {
            actions.append(.send(handle, packet))
        }
        return actions
    }

    /// Tests only: pretend the counter reached `zxid` (the rollover rule would take 2³² proposals).
    mutating func debugSetLastProposed(_ zxid: Int64) { lastProposed = zxid }

    /// Our own log holds `zxid` durably: our ACK.
    mutating func logged(_ zxid: Int64, now: Instant) -> [Action] {
        acknowledge(zxid, from: myID, now: now)
    }

    private func isForwarding(_ stage: Stage) -> Bool {
        stage == .awaitingNewLeaderAck || stage == .awaitingStart || stage == .synced
    }

    private mutating func acknowledge(_ zxid: Int64, from sid: Int64, now: Instant) -> [Action] {
        guard Zxid.counter(zxid) != 0, zxid > lastCommitted, configuration.isVoter(sid) || sid == myID,
              let oldest = outstanding.first?.txn.zxid, zxid >= oldest, zxid - oldest < outstanding.count,
              outstanding[Int(zxid - oldest)].txn.zxid == zxid else { return [] }
        outstanding[Int(zxid - oldest)].acks.insert(sid)
        var actions: [Action] = []
        // Commit strictly in order: only the oldest outstanding proposal may commit.
        while let first = outstanding.first, configuration.isQuorum(first.acks) {
            _ = outstanding.popFirst()
            metrics.commits += 1  // Leader.commit: COMMIT_COUNT
            metrics.quorumAckLatencies.append(first.proposedAt.duration(to: now).milliseconds)  // QUORUM_ACK_LATENCY
            lastCommitted = first.txn.zxid
            committedHistory.append(first.txn)
            if committedHistory.count > 2 * settings.committedLogCount {
                committedHistory.removeFirst(committedHistory.count - settings.committedLogCount)
            }
            lastProcessedZxid = first.txn.zxid
            let commit = QuorumPacket(.commit, zxid: first.txn.zxid)
            for (handle, learner) in learners.sorted(by: { $0.key < $1.key }) where isForwarding(learner.stage) {
                if learner.isParticipant {
                    actions.append(.send(handle, commit))
                } else {
                    actions.append(.send(handle, QuorumPacket(.inform, zxid: first.txn.zxid, data: first.txn.encode())))
                }
            }
            // After the COMMIT packets (Apache's tryToCommit: commit, inform, then the syncs waiting on this
            // zxid): a learner must see the COMMIT before the SYNC answer that relies on it.
            actions.append(.commit(first.txn.zxid))
        }
        return actions
    }

    // MARK: Time

    mutating func tick(now: Instant) -> [Action] {
        switch phase {
        case .discovery, .awaitingEpochAcks, .awaitingNewLeaderAcks:
            guard now >= phaseDeadline else { return [] }
            return fail("no quorum within initLimit while \(phase == .discovery ? "waiting for followers" : phase == .awaitingEpochAcks ? "waiting for epoch acks" : "waiting for NEWLEADER acks")")
        case .broadcast:
            guard now >= nextPing else { return [] }
            nextPing = now.advanced(by: settings.tickTime / 2)
            var actions: [Action] = []
            // Learners silent for a syncLimit (an initLimit while they sync: a snapshot takes time to load, as
            // Apache's LearnerHandler allows; an initLimit too for a connection that never said who it is), or
            // sitting on an old proposal, are dropped.
            let oldestUnacked = outstanding.first
            for (handle, learner) in learners.sorted(by: { $0.key < $1.key }) {
                let limit = learner.stage == .synced ? syncLimit : initLimit
                let silent = learner.lastHeard.duration(to: now) > limit
                let lagging = learner.isParticipant && learner.stage == .synced && oldestUnacked.map {
                    !$0.acks.contains(learner.sid) && $0.proposedAt.duration(to: now) > syncLimit
                } == true
                if silent || lagging {
                    actions += drop(handle, silent ? "no packet for \(limit)" : "proposal not acknowledged within \(syncLimit)")
                } else if learner.stage == .synced {
                    actions.append(.send(handle, QuorumPacket(.ping, zxid: lastProposed)))
                }
            }
            guard configuration.isQuorum(syncedParticipants) else {
                return actions + fail("not sufficient followers synced, only synced with sids: \(syncedParticipants.sorted())")
            }
            return actions
        case .failed:
            return []
        }
    }

    private mutating func drop(_ handle: Handle, _ reason: String) -> [Action] {
        learners[handle] = nil
        return [.close(handle, reason)]
    }

    private mutating func fail(_ reason: String) -> [Action] {
        phase = .failed
        return [.fail(reason)]
    }
}
