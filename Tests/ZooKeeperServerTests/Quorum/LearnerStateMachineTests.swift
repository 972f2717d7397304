import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// The learner's side of ZAB, packet by packet, against the sequences Apache 3.8.0 produced on the wire
/// (golden bytes) and the ones Apache's `Zab1_0Test` spells out.
@Suite struct LearnerStateMachineTests {
    typealias Machine = LearnerStateMachine
    static let hex = ElectionMessagesTests.hex

    static func bytes(_ packet: QuorumPacket) -> [UInt8] {
        var writer = JuteWriter()
        writer.write(packet)
        return writer.bytes
    }

    static func sent(_ actions: [Machine.Action]) -> [QuorumPacket] {
        actions.compactMap { if case let .send(packet) = $0 { packet } else { nil } }
    }

    static func txn(_ zxid: Int64, path: String) -> LoggedTxn {
        LoggedTxn(
            header: TxnHeader(clientId: 0x0100_0013_6131_0000, cxid: 1, zxid: zxid, time: 1_700_000_000_000, type: OpCode.create.rawValue),
            body: .create(CreateTxn(path: path, data: Array("x".utf8), acl: .openACLUnsafe, ephemeral: false, parentCVersion: -1)))
    }

    static func proposal(_ zxid: Int64, path: String) -> QuorumPacket {
        QuorumPacket(.proposal, zxid: zxid, data: txn(zxid, path: path).encode())
    }

    static func leaderInfo(epoch: Int64) -> QuorumPacket {
        QuorumPacket(.leaderInfo, zxid: epoch << 32, data: hex("00010000"))
    }

    @Test func aFreshFollowerInSyncSpeaksApachesBytes() {
        var learner = Machine(myID: 1, acceptedEpoch: 0, currentEpoch: 0, lastLoggedZxid: 0)
        #expect(Self.sent(learner.start()).map(Self.bytes) == [
            Self.hex("0000000b 0000000000000000 00000014 0000000000000001 00010000 0000000000000000 ffffffff"),
        ])
        let epochAck = learner.receive(Self.hex("00000011 0000000100000000 00000004 00010000 ffffffff").asPacket)
        #expect(epochAck.first == .persistAcceptedEpoch(1), "acceptedEpoch is durable before ACKEPOCH")
        #expect(Self.sent(epochAck).map(Self.bytes) == [Self.hex("00000012 0000000000000000 00000004 00000000 ffffffff")])
        #expect(learner.receive(Self.hex("0000000d 0000000000000000 ffffffff ffffffff").asPacket) == [.useLoggedHistory(through: 0)])
        let config = Array(ElectionMessagesTests.ensemble.configString.utf8)
        let newLeader = learner.receive(QuorumPacket(.newLeader, zxid: 0x1_0000_0000, data: config))
        #expect(newLeader == [.persistCurrentEpoch(1), .send(QuorumPacket(.ack, zxid: 0x1_0000_0000))])
        #expect(Self.bytes(QuorumPacket(.ack, zxid: 0x1_0000_0000)) == Self.hex("00000003 0000000100000000 ffffffff ffffffff"))
        let upToDate = learner.receive(Self.hex("0000000c ffffffffffffffff ffffffff ffffffff").asPacket)
        #expect(upToDate == [.send(QuorumPacket(.ack, zxid: 0x1_0000_0000)), .startServing(epoch: 1)])
        #expect(learner.phase == .broadcast && learner.currentEpoch == 1 && learner.acceptedEpoch == 1)
    }

    @Test func aRejoinInTheSameEpochAnswersMinusOne() {
        var learner = Machine(myID: 1, acceptedEpoch: 1, currentEpoch: 1, lastLoggedZxid: 0x1_0000_0008)
        _ = learner.start()
        let ack = learner.receive(Self.leaderInfo(epoch: 1))
        #expect(Self.sent(ack).map(Self.bytes) == [Self.hex("00000012 0000000100000008 00000004 ffffffff ffffffff")])
        #expect(!ack.contains(.persistAcceptedEpoch(1)))
    }

    @Test func diffProposalsAreLoggedBeforeTheNewLeaderAckAndCommittedAfterUpToDate() {
        var learner = Machine(myID: 1, acceptedEpoch: 1, currentEpoch: 1, lastLoggedZxid: 0x1_0000_0008)
        _ = learner.start()
        _ = learner.receive(Self.leaderInfo(epoch: 2))
        _ = learner.receive(QuorumPacket(.diff, zxid: 0x1_0000_000c))
        var txns: [LoggedTxn] = []
        for zxid in Int64(0x1_0000_0009)...0x1_0000_000c {
            txns.append(Self.txn(zxid, path: "/n\(zxid)"))
            #expect(learner.receive(Self.proposal(zxid, path: "/n\(zxid)")).isEmpty)
            #expect(learner.receive(QuorumPacket(.commit, zxid: zxid)).isEmpty, "after DIFF, commits wait for UPTODATE")
        }
        // A broadcast proposal between the sync data and NEWLEADER, not yet committed.
        let outstanding = Self.txn(0x2_0000_0001, path: "/late")
        _ = learner.receive(Self.proposal(0x2_0000_0001, path: "/late"))
        let newLeader = learner.receive(QuorumPacket(.newLeader, zxid: 0x2_0000_0000))
        #expect(newLeader == [
            .persistCurrentEpoch(2), .log(txns + [outstanding], acknowledge: false), .send(QuorumPacket(.ack, zxid: 0x2_0000_0000)),
        ])
        let upToDate = learner.receive(QuorumPacket(.upToDate, zxid: -1))
        let acks = (Array(Int64(0x1_0000_0009)...0x1_0000_000c) + [0x2_0000_0001]).map { Machine.Action.send(QuorumPacket(.ack, zxid: $0)) }
        #expect(upToDate == [.send(QuorumPacket(.ack, zxid: 0x2_0000_0000))] + acks + [.startServing(epoch: 2)]
            + (Int64(0x1_0000_0009)...0x1_0000_000c).map { .commit($0) })
        #expect(Array(learner.pending) == [0x2_0000_0001])
        #expect(learner.receive(QuorumPacket(.commit, zxid: 0x2_0000_0001)) == [.commit(0x2_0000_0001)])
    }

    @Test func afterSnapCommitsApplyInMemoryAndNewLeaderSnapshotsFirst() {
        var learner = Machine(myID: 1, acceptedEpoch: 0, currentEpoch: 0, lastLoggedZxid: 0)
        _ = learner.start()
        _ = learner.receive(Self.leaderInfo(epoch: 1))
        #expect(learner.receive(QuorumPacket(.snap, zxid: 0x1_0000_0008)) == [.loadSnapshot(zxid: 0x1_0000_0008)])
        _ = learner.receive(Self.proposal(0x1_0000_0009, path: "/a"))
        #expect(learner.receive(QuorumPacket(.commit, zxid: 0x1_0000_0009)) == [.applyUnlogged(Self.txn(0x1_0000_0009, path: "/a"))])
        let newLeader = learner.receive(QuorumPacket(.newLeader, zxid: 0x1_0000_0000))
        #expect(newLeader == [.takeSnapshot, .persistCurrentEpoch(1), .send(QuorumPacket(.ack, zxid: 0x1_0000_0000))])
    }

    @Test func truncGoesFirstAndTheLogIsCut() {
        var learner = Machine(myID: 1, acceptedEpoch: 2, currentEpoch: 2, lastLoggedZxid: 0x2_0000_0007)
        _ = learner.start()
        _ = learner.receive(Self.leaderInfo(epoch: 3))
        #expect(learner.receive(Self.hex("0000000e 0000000200000003 ffffffff ffffffff").asPacket) == [.useLoggedHistory(through: 0x2_0000_0003)])
    }

    @Test func broadcastLogsAcksAndCommitsInOrder() {
        var learner = Self.following()
        #expect(learner.receive(Self.proposal(0x1_0000_0001, path: "/a")) == [.log([Self.txn(0x1_0000_0001, path: "/a")], acknowledge: true)])
        _ = learner.receive(Self.proposal(0x1_0000_0002, path: "/b"))
        #expect(learner.receive(QuorumPacket(.ping, zxid: 0x1_0000_0002)) == [.answerPing(zxid: 0x1_0000_0002)])
        #expect(learner.receive(QuorumPacket(.commit, zxid: 0x1_0000_0001)) == [.commit(0x1_0000_0001)])
        // Apache exits on a COMMIT that skips the oldest pending proposal; we leave the leader.
        #expect(learner.receive(QuorumPacket(.commit, zxid: 0x1_0000_0009)).first.map { if case .fail = $0 { true } else { false } } == true)
        #expect(learner.phase == .failed)
    }

    @Test func proposalsWithApachesDigestDecode() throws {
        // A.7: createSession from a client on a follower, as the Apache leader proposed it (digest included).
        let data = Self.hex("0100001361310000 00000000 0000000100000001 000001a24204057c fffffff6 00002710 00000002 0000000051c6d660")
        var learner = Self.following()
        let actions = learner.receive(QuorumPacket(.proposal, zxid: 0x1_0000_0001, data: data))
        guard case let .log(txns, true) = actions.first else { Issue.record("\(actions)"); return }
        #expect(txns.first?.body == .createSession(CreateSessionTxn(timeOut: 10_000)))
    }

    @Test func refusals() {
        var older = Machine(myID: 1, acceptedEpoch: 5, currentEpoch: 4, lastLoggedZxid: 0)
        _ = older.start()
        #expect(older.receive(Self.leaderInfo(epoch: 3)).count == 1 && older.phase == .failed)
        var noMode = Machine(myID: 1, acceptedEpoch: 0, currentEpoch: 0, lastLoggedZxid: 0)
        _ = noMode.start()
        _ = noMode.receive(Self.leaderInfo(epoch: 1))
        #expect(noMode.receive(QuorumPacket(.upToDate, zxid: -1)).count == 1 && noMode.phase == .failed)
        var garbage = Self.following()
        _ = garbage.receive(QuorumPacket(.proposal, zxid: 0x1_0000_0001, data: [1, 2, 3]))
        #expect(garbage.phase == .failed)
    }

    static func following() -> Machine {
        var learner = Machine(myID: 1, acceptedEpoch: 0, currentEpoch: 0, lastLoggedZxid: 0)
        _ = learner.start()
        _ = learner.receive(leaderInfo(epoch: 1))
        _ = learner.receive(QuorumPacket(.diff, zxid: 0))
        _ = learner.receive(QuorumPacket(.newLeader, zxid: 0x1_0000_0000))
        _ = learner.receive(QuorumPacket(.upToDate, zxid: -1))
        return learner
    }
}

extension Array where Element == UInt8 {
    var asPacket: QuorumPacket {
        var reader = JuteReader(self)
        return try! reader.read(QuorumPacket.self)
    }
}
