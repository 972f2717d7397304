import ZooKeeperProtocol

/// Fast leader election as Apache ZooKeeper 3.8 runs it (`FastLeaderElection.lookForLeader` together with
/// its `WorkerReceiver`'s replies), as a pure state machine: notifications and clock ticks in, messages
/// to send and the decision out. No sockets, no clock of its own, so every rule is tested with a manual
/// clock and the simulation drives many peers deterministically.
///
/// Notable behaviours, kept for wire compatibility with Apache peers:
/// - a peer's own vote reaches it like any other (the driver loops `.send(to: myID)` back);
/// - a quorum of matching LOOKING votes is final only after `finalizeWait` without a better vote;
/// - a late joiner follows an established leader only on a quorum of FOLLOWING/LEADING votes that
///   includes the leader's own LEADING vote (`checkLeader`);
/// - a peer that is not LOOKING still answers LOOKING peers with its current vote, so they can join.
struct FastLeaderElection<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    struct Settings: Sendable {
        var myID: Int64
        var configuration: QuorumConfiguration
        /// `zookeeper.fastleader.minNotificationInterval`: the first re-send interval, doubled each time.
        var minNotificationInterval: Duration = .milliseconds(200)
        /// `zookeeper.fastleader.maxNotificationInterval`.
        var maxNotificationInterval: Duration = .seconds(60)
        /// How long a quorum must stand without a better vote before it is final.
        var finalizeWait: Duration = .milliseconds(200)
    }

    enum Action: Sendable, Hashable {
        /// Send a notification to peer `to` (to ourselves too: the driver hands it back to `receive`).
        case send(to: Int64, ElectionNotification)
        /// Open connections to every voter not connected (re-sends alone cannot reach them).
        case connectAll
        /// The election is over: this peer is now `state` under `vote`.
        case decided(QuorumPeerState, ElectionVote)
    }

    let settings: Settings
    /// This peer's state; LOOKING while an election runs.
    private(set) var state: QuorumPeerState = .looking
    /// Whether an election round is running (false before the first and after a decision).
    private(set) var isLooking = false
    /// The round (`logicalclock`).
    private(set) var logicalClock: Int64 = 0
    /// The vote this peer proposes while looking (`proposedLeader`, `proposedZxid`, `proposedEpoch`).
    private(set) var proposal: (leader: Int64, zxid: Int64, epoch: Int64) = (-1, -1, -1)
    /// The vote this peer stands by outside an election (`QuorumPeer.currentVote`).
    private(set) var currentVote: ElectionVote
    private var initial: (leader: Int64, zxid: Int64, epoch: Int64) = (-1, -1, -1)
    private var recvset: [Int64: ElectionVote] = [:]
    private var outOfElection: [Int64: ElectionVote] = [:]
    private var notificationInterval: Duration
    private var pollDeadline: Instant?
    private var finalizeDeadline: Instant?
    /// LOOKING votes that reached us while we were not looking, each with when it came: a peer that noticed
    /// the leader's death a moment before us has already sent its vote, and without these it would wait a
    /// whole re-send interval (200 ms, often twice) to learn we are looking too. Apache drops them.
    private var earlyVotes: [Int64: (notification: ElectionNotification, at: Instant)] = [:]
    private let configBytes: [UInt8]

    init(settings: Settings, lastLoggedZxid: Int64, currentEpoch: Int64) {
        self.settings = settings
        self.notificationInterval = settings.minNotificationInterval
        self.currentVote = ElectionVote(leader: settings.myID, zxid: lastLoggedZxid, electionEpoch: -1, peerEpoch: currentEpoch)
        self.configBytes = Array(settings.configuration.configString.utf8)
    }

    private var configuration: QuorumConfiguration { settings.configuration }
    private var isParticipant: Bool { configuration.servers[settings.myID]?.type == .participant }

    /// The next instant `tick` has work to do at.
    var nextDeadline: Instant? {
        guard isLooking else { return nil }
        return finalizeDeadline ?? pollDeadline
    }

    // MARK: Events

    /// Starts a new round (`lookForLeader`): increments the logical clock and proposes ourselves.
    /// `lastLoggedZxid` is -1 for a peer that must not vote (empty database without autocreate).
    mutating func startLooking(lastLoggedZxid: Int64, currentEpoch: Int64, now: Instant) -> [Action] {
        state = .looking
        isLooking = true
        logicalClock += 1
        recvset = [:]
        outOfElection = [:]
        finalizeDeadline = nil
        notificationInterval = settings.minNotificationInterval
        pollDeadline = now.advanced(by: notificationInterval)
        initial = (
            leader: configuration.isVoter(settings.myID) ? settings.myID : Int64.min,
            zxid: isParticipant ? lastLoggedZxid : Int64.min,
            epoch: isParticipant ? currentEpoch : Int64.min
        )
        proposal = initial
        var actions = notifyAll()
        // Only votes sent within one re-send interval of now: older ones their senders have moved past.
        let early = earlyVotes.filter { $0.value.at.duration(to: now) <= settings.minNotificationInterval }
        earlyVotes = [:]
        for (sid, vote) in early.sorted(by: { $0.key < $1.key }) {
            actions += receive(from: sid, vote.notification, now: now)
        }
        return actions
    }

    /// After synchronisation the peer's vote carries the new epoch (`QuorumPeer.updateElectionVote`), which
    /// is what late joiners must see to follow the established leader.
    mutating func updateElectionVote(peerEpoch: Int64) {
        currentVote.peerEpoch = peerEpoch
    }

    /// A notification from peer `sid` (ourselves included).
    mutating func receive(from sid: Int64, _ notification: ElectionNotification, now: Instant) -> [Action] {
        let n = notification
        guard configuration.isVoter(sid) else {
            // A non-voter (observer or stranger) gets our view at once, whatever our state.
            return [.send(to: sid, message(state: state, leader: currentVote.leader, zxid: currentVote.zxid,
                                           round: logicalClock, epoch: currentVote.peerEpoch))]
        }
        guard isLooking else {
            guard n.state == .looking else { return [] }
            if sid != settings.myID { earlyVotes[sid] = (n, now) }
            // How a late joiner learns the established leader.
            return [.send(to: sid, message(state: state, leader: currentVote.leader, zxid: currentVote.zxid,
                                           round: currentVote.electionEpoch, epoch: currentVote.peerEpoch))]
        }
        var actions: [Action] = []
        if n.state == .looking && n.electionEpoch < logicalClock && sid != settings.myID {
            actions.append(.send(to: sid, message(state: .looking, leader: proposal.leader, zxid: proposal.zxid,
                                                  round: logicalClock, epoch: proposal.epoch)))
        }
        actions += process(n, from: sid, now: now)
        return actions
    }

    /// Timer work: the end of the finalize wait, or a silent interval (re-send and reconnect, backing off).
    mutating func tick(now: Instant) -> [Action] {
        guard isLooking else { return [] }
        if let deadline = finalizeDeadline {
            guard now >= deadline else { return [] }
            return decide(leader: proposal.leader, zxid: proposal.zxid, round: logicalClock, epoch: proposal.epoch)
        }
        guard let deadline = pollDeadline, now >= deadline else { return [] }
        notificationInterval = min(notificationInterval * 2, settings.maxNotificationInterval)
        pollDeadline = now.advanced(by: notificationInterval)
        return notifyAll() + [.connectAll]
    }

    // MARK: lookForLeader

    private mutating func process(_ n: ElectionNotification, from sid: Int64, now: Instant) -> [Action] {
        guard configuration.isVoter(n.leader) else { return [] }
        if finalizeDeadline != nil {
            // Draining for finalizeWait: only a better vote reopens the round; others are consumed.
            guard ElectionVote.beats((n.leader, n.zxid, n.peerEpoch), proposal, in: configuration) else {
                finalizeDeadline = now.advanced(by: settings.finalizeWait)
                return []
            }
            finalizeDeadline = nil
        }
        pollDeadline = now.advanced(by: notificationInterval)
        switch n.state {
        case .looking:
            return processLooking(n, from: sid, now: now)
        case .following, .leading:
            return processEstablished(n, from: sid)
        case .observing:
            return []
        }
    }

    private mutating func processLooking(_ n: ElectionNotification, from sid: Int64, now: Instant) -> [Action] {
        guard initial.zxid != -1, n.zxid != -1 else { return [] }
        var actions: [Action] = []
        let candidate = (leader: n.leader, zxid: n.zxid, epoch: n.peerEpoch)
        if n.electionEpoch > logicalClock {
            logicalClock = n.electionEpoch
            recvset = [:]
            proposal = ElectionVote.beats(candidate, initial, in: configuration) ? candidate : initial
            actions = notifyAll()
        } else if n.electionEpoch < logicalClock {
            return []
        } else if ElectionVote.beats(candidate, proposal, in: configuration) {
            proposal = candidate
            actions = notifyAll()
        }
        recvset[sid] = ElectionVote(leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch)
        let mine = ElectionVote(leader: proposal.leader, zxid: proposal.zxid, electionEpoch: logicalClock, peerEpoch: proposal.epoch)
        if hasQuorum(recvset, agreeingWith: mine) {
            finalizeDeadline = now.advanced(by: settings.finalizeWait)
        }
        return actions
    }

    /// `receivedFollowingNotification`: a FOLLOWING or LEADING vote, from this round or an earlier one.
    private mutating func processEstablished(_ n: ElectionNotification, from sid: Int64) -> [Action] {
        let vote = ElectionVote(
            leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch,
            state: n.state, version: n.version)
        if n.electionEpoch == logicalClock {
            var recorded = vote
            recorded.version = 0
            recvset[sid] = recorded
            if hasQuorum(recvset, agreeingWith: vote) && leaderConfirmed(in: recvset, leader: n.leader, round: n.electionEpoch) {
                return decide(leader: n.leader, zxid: n.zxid, round: n.electionEpoch, epoch: n.peerEpoch)
            }
        }
        outOfElection[sid] = vote
        if hasQuorum(outOfElection, agreeingWith: vote) && leaderConfirmed(in: outOfElection, leader: n.leader, round: n.electionEpoch) {
            logicalClock = n.electionEpoch
            return decide(leader: n.leader, zxid: n.zxid, round: n.electionEpoch, epoch: n.peerEpoch)
        }
        return []
    }

    /// `checkLeader`: another peer counts as leader only once it has said LEADING itself; we count as
    /// leader only in the round we are in.
    private func leaderConfirmed(in votes: [Int64: ElectionVote], leader: Int64, round: Int64) -> Bool {
        if leader != settings.myID { return votes[leader]?.state == .leading }
        return logicalClock == round
    }

    private func hasQuorum(_ votes: [Int64: ElectionVote], agreeingWith vote: ElectionVote) -> Bool {
        configuration.isQuorum(votes.compactMap { $0.value.matches(vote) ? $0.key : nil })
    }

    private mutating func decide(leader: Int64, zxid: Int64, round: Int64, epoch: Int64) -> [Action] {
        let learning: QuorumPeerState = isParticipant ? .following : .observing
        state = leader == settings.myID ? .leading : learning
        isLooking = false
        finalizeDeadline = nil
        pollDeadline = nil
        currentVote = ElectionVote(leader: leader, zxid: zxid, electionEpoch: round, peerEpoch: epoch, state: state)
        return [.decided(state, currentVote)]
    }

    private func notifyAll() -> [Action] {
        configuration.votingMembers.sorted().map { sid in
            .send(to: sid, message(state: .looking, leader: proposal.leader, zxid: proposal.zxid,
                                   round: logicalClock, epoch: proposal.epoch))
        }
    }

    private func message(state: QuorumPeerState, leader: Int64, zxid: Int64, round: Int64, epoch: Int64) -> ElectionNotification {
        ElectionNotification(state: state, leader: leader, zxid: zxid, electionEpoch: round, peerEpoch: epoch, config: configBytes)
    }
}
