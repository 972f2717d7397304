import ZooKeeperProtocol

/// ZAB's learner side (Apache's `Learner.registerWithLeader`, `syncWithLeader` and
/// `Follower.processPacket`) as a pure state machine: packets from the leader in, ordered actions out.
/// The driver performs the actions in order, so "persist, then send" is a sequence of two actions.
///
/// The rules that keep the ensemble safe, all Apache's:
/// - acceptedEpoch is durable before ACKEPOCH; currentEpoch before the NEWLEADER ACK;
/// - proposals received during sync are logged (fsynced) before the NEWLEADER ACK (ZOOKEEPER-3911) and
///   acknowledged after UPTODATE's;
/// - in broadcast, a proposal is acknowledged only once logged, and COMMITs must name the oldest pending
///   proposal (Apache exits on a mismatch; we drop back to LOOKING).
struct LearnerStateMachine: Sendable {
    enum Phase: Sendable, Equatable {
        case discovery
        case awaitingSyncMode
        case synchronization
        case broadcast
        case failed
    }

    enum SyncMode: Sendable, Equatable {
        case diff
        case snap
        case trunc
    }

    enum Action: Sendable, Equatable {
        case send(QuorumPacket)
        case persistAcceptedEpoch(Int64)
        case persistCurrentEpoch(Int64)
        /// The snapshot stream follows this packet; the database becomes it, at `zxid`.
        case loadSnapshot(zxid: Int64)
        /// The history is the log through `zxid`: logged transactions above it are dropped (TRUNC), and
        /// those through it, committed or not, are part of the database (as Apache's reload of its log
        /// makes them; DIFF keeps the whole log).
        case useLoggedHistory(through: Int64)
        /// Apply without logging (sync after SNAP/TRUNC, before NEWLEADER: the snapshot taken at
        /// NEWLEADER captures it).
        case applyUnlogged(LoggedTxn)
        case takeSnapshot
        /// Append and fsync; with `acknowledge`, send an ACK per transaction once durable.
        case log([LoggedTxn], acknowledge: Bool)
        /// Apply the logged transaction `zxid` (always the oldest pending one).
        case commit(Int64)
        /// Synchronised: serve clients in `epoch`.
        case startServing(epoch: Int64)
        /// Answer the leader's PING (the driver adds the session touches).
        case answerPing(zxid: Int64)
        /// The leader's answer to a session move.
        case revalidated(sessionId: Int64, valid: Bool)
        /// The leader's SYNC: the oldest pending client `sync` may complete.
        case syncCompleted
        /// Give up on this leader (back to LOOKING).
        case fail(String)
    }

    let myID: Int64
    let isObserver: Bool
    private(set) var phase = Phase.discovery
    private(set) var acceptedEpoch: Int64
    private(set) var currentEpoch: Int64
    private(set) var lastLoggedZxid: Int64
    /// The leader's epoch, from LEADERINFO.
    private(set) var newEpoch: Int64 = -1
    private(set) var syncMode: SyncMode?
    private var sawNewLeader = false
    /// Proposals received during sync and not yet committed in memory (`packetsNotCommitted`).
    private var notCommitted: [LoggedTxn] = []
    /// COMMITs received during sync, to apply after UPTODATE (`packetsCommitted`).
    private var committedDuringSync: [Int64] = []
    /// Proposals logged at NEWLEADER, acknowledged after UPTODATE's ACK.
    private var loggedAtNewLeader: [Int64] = []
    /// Logged proposals awaiting their COMMIT, oldest first.
    private(set) var pending = FIFO<Int64>()

    init(myID: Int64, isObserver: Bool = false, acceptedEpoch: Int64, currentEpoch: Int64, lastLoggedZxid: Int64) {
        self.myID = myID
        self.isObserver = isObserver
        self.acceptedEpoch = acceptedEpoch
        self.currentEpoch = currentEpoch
        self.lastLoggedZxid = lastLoggedZxid
    }

    /// FOLLOWERINFO (or OBSERVERINFO): who we are and the newest epoch we accepted.
    mutating func start() -> [Action] {
        var writer = JuteWriter()
        writer.write(LearnerInfo(serverid: myID, protocolVersion: QuorumPacket.protocolVersion, configVersion: 0))
        let type: QuorumPacketType = isObserver ? .observerInfo : .followerInfo
        return [.send(QuorumPacket(type, zxid: Zxid.make(epoch: acceptedEpoch, counter: 0), data: writer.bytes))]
    }

    mutating func receive(_ packet: QuorumPacket) -> [Action] {
        guard phase != .failed else { return [] }
        guard let kind = packet.kind else { return fail("unknown packet type \(packet.type)") }
        switch phase {
        case .discovery: return discover(kind, packet)
        case .awaitingSyncMode: return chooseSyncMode(kind, packet)
        case .synchronization: return synchronize(kind, packet)
        case .broadcast: return broadcast(kind, packet)
        case .failed: return []
        }
    }

    // MARK: Discovery

    private mutating func discover(_ kind: QuorumPacketType, _ packet: QuorumPacket) -> [Action] {
        guard kind == .leaderInfo else { return fail("expected LEADERINFO, got \(packet.summary)") }
        var reader = JuteReader(packet.data ?? [])
        guard let version = try? reader.readInt32(), version >= QuorumPacket.protocolVersion else {
            return fail("the leader speaks a ZAB version before 1.0")
        }
        newEpoch = Zxid.epoch(packet.zxid)
        var actions: [Action] = []
        var ackedEpoch = Int32(-1)
        if newEpoch > acceptedEpoch {
            actions.append(.persistAcceptedEpoch(newEpoch))
            acceptedEpoch = newEpoch
            ackedEpoch = Int32(truncatingIfNeeded: currentEpoch)
        } else if newEpoch < acceptedEpoch {
            return fail("the leader's epoch \(newEpoch) is less than our accepted epoch \(acceptedEpoch)")
        }
        var data = JuteWriter()
        data.write(ackedEpoch)
        actions.append(.send(QuorumPacket(.ackEpoch, zxid: lastLoggedZxid, data: data.bytes)))
        phase = .awaitingSyncMode
        return actions
    }

    // MARK: Synchronization

    private mutating func chooseSyncMode(_ kind: QuorumPacketType, _ packet: QuorumPacket) -> [Action] {
        phase = .synchronization
        switch kind {
        case .diff:
            syncMode = .diff
            return [.useLoggedHistory(through: lastLoggedZxid)]
        case .snap:
            syncMode = .snap
            lastLoggedZxid = packet.zxid
            return [.loadSnapshot(zxid: packet.zxid)]
        case .trunc:
            syncMode = .trunc
            lastLoggedZxid = packet.zxid
            return [.useLoggedHistory(through: packet.zxid)]
        default:
            return fail("expected DIFF, SNAP or TRUNC, got \(packet.summary)")
        }
    }

    /// Whether COMMITs apply at once (after SNAP/TRUNC, before NEWLEADER) instead of waiting for UPTODATE.
    private var appliesInMemory: Bool { syncMode != .diff && !sawNewLeader }

    private mutating func synchronize(_ kind: QuorumPacketType, _ packet: QuorumPacket) -> [Action] {
        switch kind {
        case .proposal, .inform:
            guard let txn = decodeTxn(packet) else { return fail("undecodable proposal \(packet.summary)") }
            notCommitted.append(txn)
            if kind == .inform { committedDuringSync.append(txn.zxid) }
            return []
        case .commit:
            if appliesInMemory {
                // Apache logs a warning and skips a COMMIT that is not the oldest proposal here.
                guard let first = notCommitted.first, first.zxid == packet.zxid else { return [] }
                notCommitted.removeFirst()
                return [.applyUnlogged(first)]
            }
            committedDuringSync.append(packet.zxid)
            return []
        case .newLeader:
            guard !sawNewLeader else { return fail("a second NEWLEADER") }
            guard Zxid.epoch(packet.zxid) == newEpoch else {
                return fail("NEWLEADER \(Zxid.hex(packet.zxid)) is not of epoch \(newEpoch)")
            }
            sawNewLeader = true
            var actions: [Action] = []
            if syncMode != .diff { actions.append(.takeSnapshot) }
            actions.append(.persistCurrentEpoch(newEpoch))
            currentEpoch = newEpoch
            if !notCommitted.isEmpty {
                actions.append(.log(notCommitted, acknowledge: false))
                loggedAtNewLeader = notCommitted.map(\.zxid)
                notCommitted = []
            }
            actions.append(.send(QuorumPacket(.ack, zxid: packet.zxid)))
            return actions
        case .upToDate:
            guard sawNewLeader else { return fail("UPTODATE before NEWLEADER (pre-1.0 ZAB is not supported)") }
            var actions: [Action] = [.send(QuorumPacket(.ack, zxid: Zxid.make(epoch: newEpoch, counter: 0)))]
            actions += loggedAtNewLeader.map { .send(QuorumPacket(.ack, zxid: $0)) }
            pending = FIFO(loggedAtNewLeader)
            if !notCommitted.isEmpty {
                actions.append(.log(notCommitted, acknowledge: true))
                pending.append(contentsOf: notCommitted.map(\.zxid))
            }
            loggedAtNewLeader = []
            notCommitted = []
            phase = .broadcast
            actions.append(.startServing(epoch: newEpoch))
            for zxid in committedDuringSync {
                actions += commit(zxid)
                if phase == .failed { return actions }
            }
            committedDuringSync = []
            return actions
        default:
            // PINGs and the rest are not answered during sync (Apache's loop ignores them).
            return []
        }
    }

    // MARK: Broadcast

    private mutating func broadcast(_ kind: QuorumPacketType, _ packet: QuorumPacket) -> [Action] {
        switch kind {
        case .proposal:
            guard let txn = decodeTxn(packet) else { return fail("undecodable proposal \(packet.summary)") }
            pending.append(txn.zxid)
            return [.log([txn], acknowledge: !isObserver)]
        case .inform:
            guard isObserver, let txn = decodeTxn(packet) else { return fail("unexpected \(packet.summary)") }
            pending.append(txn.zxid)
            return [.log([txn], acknowledge: false)] + commit(txn.zxid)
        case .commit:
            return commit(packet.zxid)
        case .ping:
            return [.answerPing(zxid: packet.zxid)]
        case .revalidate:
            var reader = JuteReader(packet.data ?? [])
            guard let session = try? reader.readInt64(), let valid = try? reader.readBool() else {
                return fail("malformed REVALIDATE")
            }
            return [.revalidated(sessionId: session, valid: valid)]
        case .sync:
            return [.syncCompleted]
        case .upToDate:
            return []  // Apache logs "Received an UPTODATE message after Follower started" and goes on.
        default:
            return fail("unexpected \(packet.summary) while following")
        }
    }

    private mutating func commit(_ zxid: Int64) -> [Action] {
        guard let oldest = pending.first else { return fail("COMMIT \(Zxid.hex(zxid)) with no pending proposal") }
        guard oldest == zxid else {
            return fail("committing \(Zxid.hex(zxid)) but the next pending transaction is \(Zxid.hex(oldest))")
        }
        _ = pending.popFirst()
        return [.commit(zxid)]
    }

    /// A proposal's `TxnHeader` + txn [+ `TxnDigest`].
    private func decodeTxn(_ packet: QuorumPacket) -> LoggedTxn? {
        guard let data = packet.data, let txn = try? LoggedTxn(decoding: data), txn.zxid == packet.zxid else { return nil }
        return txn
    }

    private mutating func fail(_ reason: String) -> [Action] {
        phase = .failed
        return [.fail(reason)]
    }
}
