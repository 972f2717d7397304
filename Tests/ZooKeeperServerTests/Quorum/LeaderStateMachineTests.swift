import Testing
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// The leader's rules one at a time (Apache's `Zab1_0Test`, `LearnerHandlerTest`).
@Suite struct LeaderStateMachineTests {
    typealias Leader = LeaderStateMachine<ManualInstant>
    static let configuration = ZabSimulationTests.configuration
    static let txn = ZabSimulationTests.txn

    static func leader(acceptedEpoch: Int64 = 1, currentEpoch: Int64 = 1, lastZxid: Int64 = 0x1_0000_0004, log: [LoggedTxn] = []) -> Leader {
        Leader(settings: .init(myID: 3, configuration: configuration, tickTime: .milliseconds(100), initLimit: 10, syncLimit: 5),
               acceptedEpoch: acceptedEpoch, currentEpoch: currentEpoch, lastProcessedZxid: lastZxid, committedLog: log, now: .at(0))
    }

    static func followerInfo(sid: Int64, acceptedEpoch: Int64) -> QuorumPacket {
        var writer = JuteWriter()
        writer.write(LearnerInfo(serverid: sid, protocolVersion: 0x10000, configVersion: 0))
        return QuorumPacket(.followerInfo, zxid: acceptedEpoch << 32, data: writer.bytes)
    }

    static func ackEpoch(_ epoch: Int32, zxid: Int64) -> QuorumPacket {
        var writer = JuteWriter()
        writer.write(epoch)
        return QuorumPacket(.ackEpoch, zxid: zxid, data: writer.bytes)
    }

    static func sent(_ actions: [Leader.Action]) -> [(Int, QuorumPacket)] {
        actions.compactMap { if case let .send(handle, packet) = $0 { (handle, packet) } else { nil } }
    }

    /// A leader established with learner 1 (handle 1) in sync.
    static func established() -> Leader {
        var leader = leader()
        leader.connected(1, now: .at(0))
        _ = leader.receive(followerInfo(sid: 1, acceptedEpoch: 1), from: 1, now: .at(1))
        _ = leader.receive(ackEpoch(1, zxid: 0x1_0000_0004), from: 1, now: .at(2))
        _ = leader.receive(QuorumPacket(.ack, zxid: 0x2_0000_0000), from: 1, now: .at(3))
        return leader
    }

    @Test func theEpochIsOneMoreThanAnyAcceptedInTheQuorumAndDurableFirst() {
        var leader = Self.leader(acceptedEpoch: 1)
        leader.connected(1, now: .at(0))
        let actions = leader.receive(Self.followerInfo(sid: 1, acceptedEpoch: 4), from: 1, now: .at(1))
        #expect(actions.first == .persistAcceptedEpoch(5))
        #expect(Self.sent(actions).map { $0.1 } == [QuorumPacket(.leaderInfo, zxid: 0x5_0000_0000, data: [0, 1, 0, 0])])
        #expect(leader.phase == .awaitingEpochAcks)
    }

    @Test func aLearnerAheadOfTheLeaderIsRefused() {
        var leader = Self.leader()
        leader.connected(1, now: .at(0))
        _ = leader.receive(Self.followerInfo(sid: 1, acceptedEpoch: 1), from: 1, now: .at(1))
        let actions = leader.receive(Self.ackEpoch(1, zxid: 0x1_0000_0009), from: 1, now: .at(2))
        #expect(actions.count == 1 && { if case .close(1, _) = actions[0] { true } else { false } }())
        #expect(leader.phase == .awaitingEpochAcks, "no quorum from a refused learner")
    }

    @Test func syncThenNewLeaderThenUpToDateOnlyAfterAQuorumOfAcks() {
        var leader = Self.leader(log: (1...4).map { Self.txn(Zxid.make(epoch: 1, counter: Int64($0)), $0) })
        leader.connected(1, now: .at(0))
        _ = leader.receive(Self.followerInfo(sid: 1, acceptedEpoch: 1), from: 1, now: .at(1))
        let sync = leader.receive(Self.ackEpoch(1, zxid: 0x1_0000_0002), from: 1, now: .at(2))
        #expect(sync.first == .persistCurrentEpoch(2))
        #expect(Self.sent(sync).map { "\($0.1.summary)" } == [
            "DIFF 0x100000004", "PROPOSAL 0x100000003", "COMMIT 0x100000003", "PROPOSAL 0x100000004", "COMMIT 0x100000004",
            "NEWLEADER 0x200000000",
        ])
        #expect(!leader.isEstablished && leader.propose(Self.txn(0x2_0000_0001, 9), now: .at(3)).isEmpty, "no proposals before the NEWLEADER quorum")
        let established = leader.receive(QuorumPacket(.ack, zxid: 0x2_0000_0000), from: 1, now: .at(4))
        #expect(established.first == .established(epoch: 2))
        #expect(Self.sent(established).map { $0.1.summary } == ["UPTODATE 0xffffffffffffffff"])
        #expect(leader.nextZxid == 0x2_0000_0001)
    }

    @Test func proposalsCommitOnAQuorumStrictlyInOrder() {
        var leader = Self.established()
        _ = leader.receive(QuorumPacket(.ack, zxid: 0x2_0000_0000), from: 1, now: .at(5))  // UPTODATE's ACK: ignored
        _ = leader.propose(Self.txn(0x2_0000_0001, 1), now: .at(10))
        _ = leader.propose(Self.txn(0x2_0000_0002, 2), now: .at(11))
        _ = leader.logged(0x2_0000_0001, now: .at(12))
        _ = leader.logged(0x2_0000_0002, now: .at(12))
        // The follower acknowledges the second first: nothing commits until the first has a quorum.
        #expect(!leader.receive(QuorumPacket(.ack, zxid: 0x2_0000_0002), from: 1, now: .at(13)).contains(.commit(0x2_0000_0002)))
        let both = leader.receive(QuorumPacket(.ack, zxid: 0x2_0000_0001), from: 1, now: .at(14))
        #expect(both.filter { if case .commit = $0 { true } else { false } } == [.commit(0x2_0000_0001), .commit(0x2_0000_0002)])
        #expect(Self.sent(both).map { $0.1.summary } == ["COMMIT 0x200000001", "COMMIT 0x200000002"])
        // Each commit is performed after its COMMIT packets and before the next's: the driver answers the
        // syncs waiting on a zxid there, and a learner must get COMMIT before that SYNC (an ensemble member
        // used to drop a sync answer that overtook its COMMIT, and stall the session behind it).
        let order = both.map { action -> String in
            switch action {
            case let .commit(zxid): return "commit \(Zxid.hex(zxid))"
            case let .send(_, packet): return packet.summary
            default: return "other"
            }
        }
        #expect(order == ["COMMIT 0x200000001", "commit 0x200000001", "COMMIT 0x200000002", "commit 0x200000002"])
    }

    @Test func aPartitionedLeaderCommitsNothingAndStepsDown() {
        var leader = Self.established()
        _ = leader.propose(Self.txn(0x2_0000_0001, 1), now: .at(10))
        let ownAck = leader.logged(0x2_0000_0001, now: .at(11))
        #expect(!ownAck.contains(.commit(0x2_0000_0001)), "one ack of three is not a quorum")
        // The follower goes silent: after syncLimit (5 ticks = 500 ms) it is dropped and the leader quits.
        var actions: [Leader.Action] = []
        var now: Int64 = 12
        while leader.phase != .failed && now < 2_000 {
            now = max(now + 1, (leader.nextDeadline?.offset.components.attoseconds ?? 0) / 1_000_000_000_000_000 + (leader.nextDeadline?.offset.components.seconds ?? 0) * 1000)
            actions += leader.tick(now: .at(now))
        }
        #expect(leader.phase == .failed && now <= 700, "stepped down at \(now) ms")
        #expect(!actions.contains(.commit(0x2_0000_0001)))
    }

    /// A connection that never says who it is (a port scan, a health check, a hostile peer) is closed after
    /// initLimit, as Apache's LearnerCnxAcceptor's socket timeout does; it used to be kept for ever.
    @Test func aConnectionThatNeverIdentifiesItselfIsClosedAfterInitLimit() {
        var leader = Self.established()
        leader.connected(7, now: .at(10))
        var closed: Int64?
        var now: Int64 = 10
        while closed == nil && now < 3_000 {
            now += 50
            for action in leader.tick(now: .at(now)) {
                if case .close(7, _) = action { closed = now }
            }
            _ = leader.receive(QuorumPacket(.ping, zxid: 0x2_0000_0000), from: 1, now: .at(now))  // learner 1 stays alive
        }
        #expect(leader.phase == .broadcast)
        #expect(closed.map { $0 > 10 + 1_000 && $0 <= 10 + 1_100 } == true, "closed at \(closed.map(String.init) ?? "never") ms (initLimit 1 s)")
    }

    @Test func theZxidCounterNeverWrapsIntoTheNextEpoch() {
        var leader = Self.established()
        let last = Zxid.make(epoch: 2, counter: 0xffff_ffff)
        // Reaching the last counter value forces a new epoch instead of proposing it.
        var forced = leader
        forced.debugSetLastProposed(last - 1)
        #expect(forced.propose(Self.txn(last, 1), now: .at(10)).first.map { if case .fail = $0 { true } else { false } } == true)
        _ = leader.propose(Self.txn(0x2_0000_0001, 1), now: .at(10))
        #expect(leader.nextZxid == 0x2_0000_0002)
    }

    @Test(arguments: [
        // (peer's last zxid, expected mode, proposals sent) with committed log 0x100000001…5 and last 0x100000005.
        (Int64(0x1_0000_0005), "DIFF 0x100000005", 0),
        (Int64(0x1_0000_0003), "DIFF 0x100000005", 2),
        (Int64(0x1_0000_0007), "TRUNC 0x100000005", 0),
        (Int64(0x0), "SNAP", 0),                    // older than the committed log: a snapshot
        (Int64(0x1_0000_0000), "SNAP", 0),          // before the log's first entry, too
    ])
    func learnerHandlerSyncDecisions(peer: Int64, mode: String, proposals: Int) {
        let log = (1...5).map { Self.txn(Zxid.make(epoch: 1, counter: Int64($0)), $0) }
        let plan = LearnerSyncPlan.plan(peerLastZxid: peer, committedLog: log, lastProcessedZxid: 0x1_0000_0005)
        let name: String
        switch plan.mode {
        case let .diff(zxid): name = "DIFF \(Zxid.hex(zxid))"
        case let .trunc(zxid): name = "TRUNC \(Zxid.hex(zxid))"
        case .snap: name = "SNAP"
        }
        #expect(name == mode && plan.proposals.count == proposals)
    }

    @Test func aNewEpochZxidIsDiffedNeverTruncated() {
        // testNewEpochZxid: a learner synced into epoch 2 that never got a transaction of it.
        let log = (1...3).map { Self.txn(Zxid.make(epoch: 1, counter: Int64($0)), $0) } + [Self.txn(0x2_0000_0001, 4), Self.txn(0x2_0000_0002, 5)]
        let plan = LearnerSyncPlan.plan(peerLastZxid: 0x2_0000_0000, committedLog: log, lastProcessedZxid: 0x2_0000_0002)
        #expect(plan.mode == .diff(0x2_0000_0002) && plan.proposals.map(\.zxid) == [0x2_0000_0001, 0x2_0000_0002])
    }

    @Test func crossEpochTruncationFallsBackToSnap() {
        // The learner holds 0x100000006, which the leader never had; the leader's next entry is of epoch 2.
        let log = [Self.txn(0x1_0000_0005, 5), Self.txn(0x2_0000_0001, 6)]
        let plan = LearnerSyncPlan.plan(peerLastZxid: 0x1_0000_0006, committedLog: log, lastProcessedZxid: 0x2_0000_0001)
        #expect(plan.mode == .snap)
    }
}
