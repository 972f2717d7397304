import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer


/// N peers' election state machines on a simulated network, driven by a seeded scheduler that delays,
/// reorders, duplicates and drops messages, crashes and restarts peers and cuts links. What follows an
/// election is modelled just enough to exercise it ("ZAB-lite"): a leader is established when a quorum
/// follows it within initLimit (epoch = max accepted epoch + 1, followers synced to its history, learners
/// more recent than it dropped, as `Leader.waitForEpochAck` does); it commits transactions on a quorum; it
/// steps down without a quorum; followers of a leader that is gone go back to LOOKING.
///
/// Checked after every step: at most one leader is ever established per epoch, and a newly established
/// leader holds every transaction ever committed.
struct ElectionSimulation {
    struct Faults {
        var maxDelay: Duration = .milliseconds(50)
        var dropRate = 0.0
        var duplicateRate = 0.0
        /// Chance per check that some peer crashes (restarted a little later).
        var crashRate = 0.0
        /// Chance per check that some link is cut for a while.
        var partitionRate = 0.0
    }

    enum Role: Equatable {
        case looking
        case following(leader: Int64, joined: Bool)
        case leading(established: Bool)
    }

    struct Peer {
        var election: Election
        var alive = true
        var acceptedEpoch: Int64 = 0
        var currentEpoch: Int64 = 0
        var lastZxid: Int64 = 0
        var role = Role.looking
        /// Bumped whenever the role changes, so stale scheduled checks are ignored.
        var generation = 0
    }

    enum Event {
        case deliver(from: Int64, to: Int64, ElectionNotification)
        case check(Int64, generation: Int)
        case restart(Int64)
        case heal(Int64, Int64)
    }

    let configuration: QuorumConfiguration
    let faults: Faults
    let initLimit = Duration.milliseconds(1000)
    let syncLimit = Duration.milliseconds(500)
    private(set) var peers: [Int64: Peer] = [:]
    private(set) var now = ManualInstant.at(0)
    private var rng: SplitMix64
    private var queue: [(at: ManualInstant, order: Int, event: Event)] = []
    private var order = 0
    private var cut: Set<[Int64]> = []
    /// The highest zxid committed so far.
    private(set) var committed: Int64 = 0
    /// Established leaders by epoch.
    private(set) var leaders: [Int64: Int64] = [:]
    /// Broken invariants, with the instant and the story.
    private(set) var violations: [String] = []
    private(set) var steps = 0
    var faultsActive = true

    init(size: Int, seed: UInt64, faults: Faults) throws {
        configuration = try QuorumConfiguration(servers: (1...size).map {
            QuorumServer(id: Int64($0), host: "127.0.0.1", quorumPort: 1, electionPort: 2)
        })
        self.faults = faults
        rng = SplitMix64(seed: seed)
        for sid in configuration.votingMembers {
            var peer = Peer(election: Election(settings: .init(myID: sid, configuration: configuration), lastLoggedZxid: 0, currentEpoch: 0))
            // Peers start with different histories of the same epoch, as after a crash of the old leader.
            peer.lastZxid = Int64(rng.next() % 4)
            peer.acceptedEpoch = 0
            peers[sid] = peer
        }
        committed = peers.values.map(\.lastZxid).sorted()[size / 2] // the majority's common prefix
        for sid in peers.keys.sorted() {
            schedule(after: .milliseconds(Int64(rng.next() % 300)), .restart(sid))
        }
    }

    // MARK: Running

    /// Runs until `until`; returns false once an invariant broke.
    mutating func run(until end: ManualInstant) -> Bool {
        while violations.isEmpty {
            let deadline = peers.compactMap { $0.value.alive ? $0.value.election.nextDeadline : nil }.min()
            let next = queue.min { ($0.at, $0.order) < ($1.at, $1.order) }
            let at = [deadline, next?.at].compactMap { $0 }.min()
            guard let at, at <= end else { now = end; return true }
            now = max(now, at)
            steps += 1
            if let next, next.at <= (deadline ?? next.at) {
                queue.removeAll { $0.order == next.order }
                handle(next.event)
            } else {
                for sid in peers.keys.sorted() where peers[sid]!.alive && peers[sid]!.election.nextDeadline.map({ $0 <= now }) == true {
                    perform(sid, peers[sid]!.election.tick(now: now))
                }
            }
        }
        return false
    }

    /// Whether every peer is alive and in one established ensemble.
    var isSettled: Bool {
        let established = peers.filter { $0.value.role == .leading(established: true) }.map(\.key)
        guard established.count == 1, let leader = established.first else { return false }
        return peers.allSatisfy { sid, peer in
            peer.alive && (sid == leader || peer.role == .following(leader: leader, joined: true))
        }
    }

    /// Stops injecting faults, heals every link and restarts every crashed peer.
    mutating func heal() {
        faultsActive = false
        cut = []
        for (sid, peer) in peers where !peer.alive { schedule(after: .zero, .restart(sid)) }
    }

    // MARK: Events

    private mutating func schedule(after delay: Duration, _ event: Event) {
        order += 1
        queue.append((now.advanced(by: delay), order, event))
    }

    private func linked(_ a: Int64, _ b: Int64) -> Bool {
        a == b || (!cut.contains([a, b].sorted()) && peers[a]!.alive && peers[b]!.alive)
    }

    private mutating func handle(_ event: Event) {
        switch event {
        case let .deliver(from, to, notification):
            guard linked(from, to) else { return }
            perform(to, peers[to]!.election.receive(from: from, notification, now: now))
        case let .check(sid, generation):
            guard peers[sid]!.alive, peers[sid]!.generation == generation else { return }
            check(sid)
        case let .restart(sid):
            guard !peers[sid]!.alive || peers[sid]!.generation == 0 else { return }
            var peer = peers[sid]!
            // A restarted process starts a fresh election object (logical clock 0); its files survive.
            peer.election = Election(settings: .init(myID: sid, configuration: configuration), lastLoggedZxid: peer.lastZxid, currentEpoch: peer.currentEpoch)
            peer.alive = true
            peers[sid] = peer
            lookAgain(sid)
        case let .heal(a, b):
            cut.remove([a, b].sorted())
        }
    }

    private mutating func perform(_ sid: Int64, _ actions: [Election.Action]) {
        for action in actions {
            switch action {
            case let .send(to, notification):
                if to == sid {
                    schedule(after: .zero, .deliver(from: sid, to: to, notification))
                    continue
                }
                guard linked(sid, to), !chance(faults.dropRate) else { continue }
                schedule(after: randomDelay(), .deliver(from: sid, to: to, notification))
                if chance(faults.duplicateRate) {
                    schedule(after: randomDelay(), .deliver(from: sid, to: to, notification))
                }
            case .connectAll:
                break
            case let .decided(state, vote):
                setRole(sid, state == .leading ? .leading(established: false) : .following(leader: vote.leader, joined: false))
                schedule(after: initLimit, .check(sid, generation: peers[sid]!.generation))
                // Followers connect to the leader at once; it establishes as soon as a quorum has.
                if peers[vote.leader]!.role == .leading(established: true), linked(sid, vote.leader) {
                    admit(vote.leader, [sid])
                } else if peers[vote.leader]!.role == .leading(established: false) {
                    tryToEstablish(vote.leader)
                }
            }
        }
    }

    private mutating func setRole(_ sid: Int64, _ role: Role) {
        peers[sid]!.role = role
        peers[sid]!.generation += 1
    }

    private mutating func lookAgain(_ sid: Int64) {
        setRole(sid, .looking)
        let peer = peers[sid]!
        perform(sid, peers[sid]!.election.startLooking(lastLoggedZxid: peer.lastZxid, currentEpoch: peer.currentEpoch, now: now))
    }

    // MARK: ZAB-lite

    private mutating func check(_ sid: Int64) {
        injectFaults()
        guard peers[sid]!.alive else { return }
        switch peers[sid]!.role {
        case .looking:
            return
        case .following(_, joined: false), .leading(established: false):
            // Not synchronised within initLimit: back to the election.
            lookAgain(sid)
            return
        case let .following(leader, joined: true):
            guard linked(sid, leader), peers[leader]!.role == .leading(established: true) else {
                lookAgain(sid)
                return
            }
        case .leading(established: true):
            let supporters = peers.keys.filter { other in
                other != sid && linked(sid, other) && peers[other]!.role == .following(leader: sid, joined: true)
            }
            guard configuration.isQuorum(supporters + [sid]) else {
                // Lost the quorum for a syncLimit: step down (followers notice at their next check).
                lookAgain(sid)
                return
            }
            if chance(0.5) { commit(sid) }
        }
        schedule(after: syncLimit, .check(sid, generation: peers[sid]!.generation))
    }

    private mutating func tryToEstablish(_ leader: Int64) {
        let followers = peers.keys.filter { other in
            other != leader && linked(leader, other) && peers[other]!.role == .following(leader: leader, joined: false)
        }
        if configuration.isQuorum(followers + [leader]) { establish(leader, with: followers) }
    }

    private func isMoreRecent(_ a: Int64, than b: Int64) -> Bool {
        let (x, y) = (peers[a]!, peers[b]!)
        return (x.currentEpoch, x.lastZxid) > (y.currentEpoch, y.lastZxid)
    }

    private mutating func establish(_ leader: Int64, with followers: [Int64]) {
        // Learners more recent than the leader are dropped (`StateSummary.isMoreRecentThan`).
        let staying = followers.filter { !isMoreRecent($0, than: leader) }
        for dropped in followers where !staying.contains(dropped) { lookAgain(dropped) }
        guard configuration.isQuorum(staying + [leader]) else { return }
        let epoch = (staying + [leader]).map { peers[$0]!.acceptedEpoch }.max()! + 1
        if let other = leaders[epoch] {
            violations.append("at \(now): \(leader) and \(other) both established epoch \(epoch)")
        }
        if peers[leader]!.lastZxid < committed {
            violations.append("at \(now): leader \(leader) of epoch \(epoch) lacks committed zxid 0x\(String(committed, radix: 16)) (has 0x\(String(peers[leader]!.lastZxid, radix: 16)))")
        }
        leaders[epoch] = leader
        peers[leader]!.acceptedEpoch = epoch
        peers[leader]!.currentEpoch = epoch
        peers[leader]!.election.updateElectionVote(peerEpoch: epoch)
        setRole(leader, .leading(established: true))
        schedule(after: syncLimit, .check(leader, generation: peers[leader]!.generation))
        admit(leader, staying)
    }

    /// Synchronises followers to the leader's history and epoch.
    private mutating func admit(_ leader: Int64, _ followers: [Int64]) {
        let epoch = peers[leader]!.currentEpoch
        for follower in followers where peers[follower]!.role == .following(leader: leader, joined: false) {
            if isMoreRecent(follower, than: leader) {
                lookAgain(follower)
                continue
            }
            peers[follower]!.acceptedEpoch = epoch
            peers[follower]!.currentEpoch = epoch
            peers[follower]!.lastZxid = peers[leader]!.lastZxid
            peers[follower]!.election.updateElectionVote(peerEpoch: epoch)
            setRole(follower, .following(leader: leader, joined: true))
            schedule(after: syncLimit, .check(follower, generation: peers[follower]!.generation))
        }
    }

    /// Commits one transaction on the leader and a random quorum of its followers.
    private mutating func commit(_ leader: Int64) {
        let epoch = peers[leader]!.currentEpoch
        let zxid = max(peers[leader]!.lastZxid, epoch << 32) + 1
        let joined = peers.keys.filter { peers[$0]!.role == .following(leader: leader, joined: true) && linked($0, leader) }.shuffled(using: &rng)
        let needed = configuration.votingMembers.count / 2   // plus the leader makes a majority
        guard joined.count >= needed else { return }
        peers[leader]!.lastZxid = zxid
        for follower in joined.prefix(needed + Int(rng.next() % UInt64(joined.count - needed + 1))) {
            peers[follower]!.lastZxid = zxid
        }
        committed = max(committed, zxid)
    }

    // MARK: Faults

    private mutating func injectFaults() {
        guard faultsActive else { return }
        let sids = peers.keys.sorted()
        if chance(faults.crashRate), let victim = sids.randomElement(using: &rng), peers[victim]!.alive {
            peers[victim]!.alive = false
            peers[victim]!.generation += 1
            // Followers find out at their next check; the victim comes back later.
            schedule(after: .milliseconds(Int64(200 + rng.next() % 3000)), .restart(victim))
        }
        if chance(faults.partitionRate) {
            let a = sids.randomElement(using: &rng)!, b = sids.randomElement(using: &rng)!
            if a != b {
                cut.insert([a, b].sorted())
                schedule(after: .milliseconds(Int64(200 + rng.next() % 4000)), .heal(a, b))
            }
        }
    }

    private mutating func chance(_ probability: Double) -> Bool {
        probability > 0 && Double(rng.next() % 1_000_000) / 1_000_000 < probability
    }

    private mutating func randomDelay() -> Duration {
        let limit = UInt64(faults.maxDelay.components.seconds * 1000 + faults.maxDelay.components.attoseconds / 1_000_000_000_000_000)
        return .microseconds(Int64(rng.next() % max(1, limit * 1000)))
    }
}
