import Testing
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

typealias Election = FastLeaderElection<ManualInstant>

/// Fast leader election's rules, one at a time, against a manual clock.
@Suite struct FastLeaderElectionTests {
    static let ensemble = ElectionMessagesTests.ensemble
    static let config = Array(ensemble.configString.utf8)

    static func peer(_ sid: Int64, zxid: Int64 = 0, epoch: Int64 = 0) -> Election {
        Election(settings: .init(myID: sid, configuration: ensemble), lastLoggedZxid: zxid, currentEpoch: epoch)
    }

    static func looking(leader: Int64, zxid: Int64 = 0, round: Int64 = 1, epoch: Int64 = 0) -> ElectionNotification {
        ElectionNotification(state: .looking, leader: leader, zxid: zxid, electionEpoch: round, peerEpoch: epoch, config: config)
    }

    static func sends(_ actions: [Election.Action]) -> [(Int64, ElectionNotification)] {
        actions.compactMap { if case let .send(to, n) = $0 { (to, n) } else { nil } }
    }

    static func decision(_ actions: [Election.Action]) -> (QuorumPeerState, ElectionVote)? {
        for action in actions { if case let .decided(state, vote) = action { return (state, vote) } }
        return nil
    }

    @Test func startProposesItselfToEveryVoterIncludingItself() {
        var peer = Self.peer(2, zxid: 0x1_0000_0005, epoch: 1)
        let actions = peer.startLooking(lastLoggedZxid: 0x1_0000_0005, currentEpoch: 1, now: .at(0))
        let sent = Self.sends(actions)
        #expect(sent.map(\.0) == [1, 2, 3])
        #expect(sent.allSatisfy { $0.1 == Self.looking(leader: 2, zxid: 0x1_0000_0005, epoch: 1) })
        #expect(peer.logicalClock == 1 && peer.nextDeadline == .at(200))
    }

    @Test func aQuorumDecidesOnlyAfterTheFinalizeWait() {
        var peer = Self.peer(1)
        _ = peer.startLooking(lastLoggedZxid: 0, currentEpoch: 0, now: .at(0))
        _ = peer.receive(from: 1, Self.looking(leader: 1), now: .at(1))
        // Sid 3's vote beats ours: adopt it and tell everyone.
        let adopted = Self.sends(peer.receive(from: 3, Self.looking(leader: 3), now: .at(2)))
        #expect(adopted.count == 3 && adopted.allSatisfy { $0.1.leader == 3 })
        _ = peer.receive(from: 1, Self.looking(leader: 3), now: .at(3))
        // Two of three now agree on 3: final after 200 ms of nothing better.
        #expect(peer.nextDeadline == .at(203))
        #expect(peer.tick(now: .at(202)).isEmpty)
        // A worse vote during the wait is consumed and restarts the wait.
        #expect(peer.receive(from: 2, Self.looking(leader: 2), now: .at(150)).isEmpty)
        #expect(peer.nextDeadline == .at(350))
        let decided = Self.decision(peer.tick(now: .at(350)))
        #expect(decided?.0 == .following && decided?.1.leader == 3 && decided?.1.electionEpoch == 1)
        #expect(!peer.isLooking && peer.state == .following)
    }

    @Test func aBetterVoteDuringTheFinalizeWaitReopensTheRound() {
        var peer = Self.peer(1)
        _ = peer.startLooking(lastLoggedZxid: 0, currentEpoch: 0, now: .at(0))
        _ = peer.receive(from: 1, Self.looking(leader: 1), now: .at(1))
        _ = peer.receive(from: 2, Self.looking(leader: 2), now: .at(2))
        _ = peer.receive(from: 1, Self.looking(leader: 2), now: .at(3))
        #expect(peer.nextDeadline == .at(203))
        let reopened = Self.sends(peer.receive(from: 3, Self.looking(leader: 3), now: .at(100)))
        #expect(reopened.count == 3 && reopened.allSatisfy { $0.1.leader == 3 })
        #expect(peer.nextDeadline == .at(300), "back to the notification interval, no quorum for 3 yet")
    }

    @Test func voteOrderIsEpochThenZxidThenSid() {
        let ensemble = Self.ensemble
        #expect(ElectionVote.beats((1, 0, 2), (3, 0x1_0000_0009, 1), in: ensemble))
        #expect(ElectionVote.beats((1, 0x1_0000_000a, 1), (3, 0x1_0000_0009, 1), in: ensemble))
        #expect(ElectionVote.beats((3, 5, 1), (2, 5, 1), in: ensemble))
        #expect(!ElectionVote.beats((2, 5, 1), (2, 5, 1), in: ensemble))
        #expect(!ElectionVote.beats((9, 99, 99), (2, 5, 1), in: ensemble), "a non-member never wins")
    }

    @Test func aHigherRoundResetsTheVotesAndALowerRoundGetsOurProposal() {
        var peer = Self.peer(2)
        _ = peer.startLooking(lastLoggedZxid: 0, currentEpoch: 0, now: .at(0))
        // Round 5 from sid 1 proposing 1: jump to round 5, but our own initial vote (2) is better.
        let jumped = Self.sends(peer.receive(from: 1, Self.looking(leader: 1, round: 5), now: .at(1)))
        #expect(peer.logicalClock == 5 && jumped.allSatisfy { $0.1.leader == 2 && $0.1.electionEpoch == 5 })
        // A LOOKING peer still in round 1 is told about round 5 directly.
        let reply = Self.sends(peer.receive(from: 3, Self.looking(leader: 3, round: 1), now: .at(2)))
        #expect(reply.count == 1 && reply[0].0 == 3 && reply[0].1.electionEpoch == 5 && reply[0].1.leader == 2)
    }

    @Test func aLateJoinerFollowsOnlyOnceTheLeaderItselfSaysLeading() {
        var late = Self.peer(1)
        _ = late.startLooking(lastLoggedZxid: 0, currentEpoch: 0, now: .at(0))
        let following = ElectionNotification(state: .following, leader: 3, zxid: 0x1_0000_0004, electionEpoch: 1, peerEpoch: 1, config: Self.config)
        let leading = ElectionNotification(state: .leading, leader: 3, zxid: 0x1_0000_0004, electionEpoch: 1, peerEpoch: 1, config: Self.config)
        #expect(Self.decision(late.receive(from: 2, following, now: .at(1))) == nil)
        // A quorum follows 3 (sid 2 and, by its LEADING vote, 3): join it.
        let joined = Self.decision(late.receive(from: 3, leading, now: .at(2)))
        #expect(joined?.0 == .following && joined?.1.leader == 3 && joined?.1.peerEpoch == 1)
    }

    @Test func followersOfACrashedLeaderDoNotElectItAgain() {
        var late = Self.peer(1)
        _ = late.startLooking(lastLoggedZxid: 0, currentEpoch: 0, now: .at(0))
        let ghost = ElectionNotification(state: .following, leader: 3, zxid: 0x1_0000_0004, electionEpoch: 1, peerEpoch: 1, config: Self.config)
        _ = late.receive(from: 2, ghost, now: .at(1))
        var other = ghost
        other.state = .following
        // Without the leader's own LEADING vote, two FOLLOWING votes are not enough (checkLeader).
        #expect(Self.decision(late.receive(from: 1, other, now: .at(2))) == nil)
    }

    @Test func anEstablishedPeerAnswersLookingPeersWithItsCurrentVote() {
        var peer = Self.peer(3)
        _ = peer.startLooking(lastLoggedZxid: 0, currentEpoch: 0, now: .at(0))
        _ = peer.receive(from: 3, Self.looking(leader: 3), now: .at(1))
        _ = peer.receive(from: 2, Self.looking(leader: 3), now: .at(2))
        #expect(Self.decision(peer.tick(now: .at(202)))?.0 == .leading)
        peer.updateElectionVote(peerEpoch: 1)
        let answer = Self.sends(peer.receive(from: 1, Self.looking(leader: 1, round: 1), now: .at(500)))
        #expect(answer.count == 1 && answer[0].0 == 1)
        #expect(answer[0].1.state == .leading && answer[0].1.leader == 3 && answer[0].1.peerEpoch == 1 && answer[0].1.electionEpoch == 1)
        // Established peers ignore FOLLOWING/LEADING chatter.
        let chatter = ElectionNotification(state: .following, leader: 3, zxid: 0, electionEpoch: 1, peerEpoch: 1, config: Self.config)
        #expect(peer.receive(from: 2, chatter, now: .at(501)).isEmpty)
    }

    /// Peer 1, having elected 2 in round 1 (at 202 ms) and following it.
    static func followingTwoAfterRoundOne() -> Election {
        var peer = Self.peer(1)
        _ = peer.startLooking(lastLoggedZxid: 0, currentEpoch: 0, now: .at(0))
        _ = peer.receive(from: 2, Self.looking(leader: 2), now: .at(1))
        _ = peer.receive(from: 1, Self.looking(leader: 2), now: .at(2))
        #expect(Self.decision(peer.tick(now: .at(202)))?.0 == .following)
        return peer
    }

    /// Both followers see the leader die; the first to look sends its vote while the other is still
    /// following. Apache's peer drops that vote and the two wait a re-send interval (or two) for each other:
    /// the slow failovers (~600 ms instead of ~200) zk-bench measured. Ours keeps it for its own round.
    @Test func aLookingVoteThatCameJustBeforeWeLookedCountsInOurRound() {
        var peer = Self.followingTwoAfterRoundOne()
        // Leader 2 dies; peer 3 looks first. While following we answer with our vote, as Apache does.
        let early = Self.looking(leader: 3, round: 2)
        #expect(Self.sends(peer.receive(from: 3, early, now: .at(5000))).map(\.1.state) == [.following])
        let actions = peer.startLooking(lastLoggedZxid: 0, currentEpoch: 0, now: .at(5003))
        // Round 2 starts with our own vote, then adopts 3's at once instead of after 200 ms of silence.
        let sent = Self.sends(actions)
        #expect(sent.count == 6 && sent.suffix(3).allSatisfy { $0.1.leader == 3 && $0.1.electionEpoch == 2 })
        _ = peer.receive(from: 1, Self.looking(leader: 3, round: 2), now: .at(5004))
        #expect(peer.nextDeadline == .at(5204), "3 and we agree: the finalize wait runs")
        #expect(Self.decision(peer.tick(now: .at(5204)))?.1.leader == 3)
    }

    @Test func aLookingVoteFromLongBeforeWeLookedIsForgotten() {
        var peer = Self.followingTwoAfterRoundOne()
        // More than one re-send interval old: its sender has re-sent since if it still stands by it.
        _ = peer.receive(from: 3, Self.looking(leader: 3, round: 2), now: .at(5000))
        let sent = Self.sends(peer.startLooking(lastLoggedZxid: 0, currentEpoch: 0, now: .at(5201)))
        #expect(sent.count == 3 && sent.allSatisfy { $0.1.leader == 1 })
    }

    @Test func silenceResendsAndReconnectsWithBackoff() {
        var peer = Self.peer(1)
        _ = peer.startLooking(lastLoggedZxid: 0, currentEpoch: 0, now: .at(0))
        var at: Int64 = 0
        var intervals: [Int64] = []
        for _ in 0..<10 {
            let deadline = peer.nextDeadline!
            let actions = peer.tick(now: deadline)
            #expect(actions.contains(.connectAll) && Self.sends(actions).count == 3)
            let ms = Int64(deadline.offset.components.seconds * 1000 + deadline.offset.components.attoseconds / 1_000_000_000_000_000)
            intervals.append(ms - at)
            at = ms
        }
        #expect(intervals == [200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000])
    }

    @Test func aPeerWithNoDatabaseDoesNotVote() {
        var empty = Self.peer(1, zxid: -1)
        _ = empty.startLooking(lastLoggedZxid: -1, currentEpoch: 0, now: .at(0))
        _ = empty.receive(from: 2, Self.looking(leader: 2), now: .at(1))
        _ = empty.receive(from: 3, Self.looking(leader: 2), now: .at(2))
        #expect(empty.nextDeadline == .at(202) && empty.proposal.leader == 1)
        #expect(Self.decision(empty.tick(now: .at(202))) == nil)
    }

    @Test func nonVotersGetAnAnswerButNoSay() throws {
        var servers = Self.ensemble.servers.values.sorted { $0.id < $1.id }
        servers.append(QuorumServer(id: 4, host: "127.0.0.1", quorumPort: 1, electionPort: 2, type: .observer))
        let withObserver = try QuorumConfiguration(servers: servers)
        var peer = Election(settings: .init(myID: 1, configuration: withObserver), lastLoggedZxid: 0, currentEpoch: 0)
        _ = peer.startLooking(lastLoggedZxid: 0, currentEpoch: 0, now: .at(0))
        let answer = Self.sends(peer.receive(from: 4, Self.looking(leader: 4), now: .at(1)))
        #expect(answer.count == 1 && answer[0].0 == 4)
        #expect(peer.proposal.leader == 1)
    }
}
