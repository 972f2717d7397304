import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// ZAB end to end on a simulated network: N members, each running the real ``FastLeaderElection``,
/// ``LeaderStateMachine`` and ``LearnerStateMachine`` the way `QuorumPeer`, `LeaderDriver` and
/// `FollowerDriver` drive them, over a simulated disk (``Disk``: snapshots, log files, an unsynced tail a
/// crash partly loses, epoch files). A seeded scheduler delays, reorders, duplicates and drops election
/// messages, delays quorum packets (each connection stays FIFO, as TCP), crashes and restarts members, cuts
/// links silently (both sides find out by their timeouts) and has whoever leads propose client writes.
/// Observers (optional) learn the leader by election, sync as learners and get INFORMs; they never vote or ack.
///
/// Checked at every step: at most one leader is established per epoch; an established leader's history
/// holds everything committed before (so no acknowledged write is ever lost); every zxid committed names one
/// transaction, and each is above every zxid committed before; a serving member's committed history is a
/// prefix of the committed sequence; a disk always recovers. After healing, every member must end in one
/// ensemble with the same history.
struct EnsembleSimulation {
    typealias Leader = LeaderStateMachine<ManualInstant>

    struct Faults {
        var maxDelay: Duration = .milliseconds(20)
        var dropRate = 0.0
        var duplicateRate = 0.0
        /// Chance per fault check (every 50 ms) that a member crashes (restarted a little later).
        var crashRate = 0.0
        /// Chance per fault check that a link is cut for a while.
        var partitionRate = 0.0
        /// Chance per fault check that one member is cut from all the others for a while.
        var isolationRate = 0.0
        /// Chance that an fsync takes 0.2–1.5 s (a slow disk: longer than syncLimit, 0.5 s, at worst).
        var slowDiskRate = 0.0
    }

    enum Message {
        case packet(QuorumPacket)
        case snapshot([LoggedTxn])
        /// The other end closed the connection (EOF or reset, after what it sent before).
        case closed
    }

    enum Event {
        case election(from: Int64, to: Int64, ElectionNotification)
        case quorum(handle: Int, toLeader: Bool, Message)
        case leaderFsync(Int64, generation: Int)
        case followerFsync(Int64, generation: Int)
        case txnLogRead(Int64, generation: Int, handle: Int, peerLastZxid: Int64, through: Int64)
        case followerCheck(Int64, generation: Int)
        case connect(Int64, generation: Int, attempt: Int)
        case write
        case faults
        case restart(Int64)
        case heal(Int64, Int64)
        case stopWrites
    }

    struct Connection {
        var leader: Int64
        var learner: Int64
        /// Each end's role generation when it opened; a later role never sees the connection.
        var leaderGeneration: Int
        var learnerGeneration: Int
        /// Cut by a partition: nothing more arrives, and no end hears of it.
        var broken = false
        /// Each end until it closes the connection (then nothing reaches it).
        var leaderOpen = true
        var learnerOpen = true
        var lastDelivery: [Bool: ManualInstant] = [:]
    }

    /// Roles are references: a role's history grows by one per commit, and a value copied out of `members`
    /// and written back would copy it whole each time.
    final class LeaderRole {
        var machine: Leader
        /// The committed database (`LeaderDriver`'s, lent to its client side once serving).
        var history: [LoggedTxn]
        var proposed: [Int64: LoggedTxn] = [:]
        /// Our proposals written but not yet fsynced (group commit pending).
        var unlogged: [LoggedTxn] = []
        var fsyncScheduled = false

        init(machine: Leader, history: [LoggedTxn]) {
            self.machine = machine
            self.history = history
        }
    }

    final class FollowerRole {
        var machine: LearnerStateMachine
        var leader: Int64
        var handle: Int?
        var history: [LoggedTxn]
        /// Logged proposals not yet committed, owed ACKs, ahead of the disk: `FollowerDriver`'s own bookkeeping.
        var log: FollowerLog
        var serving = false
        var lastHeard: ManualInstant
        var fsyncScheduled = false

        init(machine: LearnerStateMachine, leader: Int64, history: [LoggedTxn], tail: [LoggedTxn], lastHeard: ManualInstant) {
            self.machine = machine
            self.leader = leader
            self.history = history
            self.log = FollowerLog(uncommitted: tail)
            self.lastHeard = lastHeard
        }
    }

    enum Role {
        case down
        case looking
        case leading(LeaderRole)
        case following(FollowerRole)
    }

    struct Member {
        var disk: Disk
        var election: Election
        var role = Role.down
        /// Bumped on every role change, so events for an earlier role are ignored.
        var generation = 0
        /// What `QuorumPeer` hands from role to role.
        var history: [LoggedTxn]
        var uncommitted: [LoggedTxn] = []
        var alive: Bool { if case .down = role { false } else { true } }
    }

    let configuration: QuorumConfiguration
    let faults: Faults
    let tickTime = Duration.milliseconds(100)
    let initLimit = 10
    let syncLimit = 5
    private(set) var members: [Int64: Member] = [:]
    private let sids: [Int64]
    private(set) var now = ManualInstant.at(0)
    private var rng: SplitMix64
    private var queue = SimulationQueue<Event>()
    private var cut: Set<[Int64]> = []
    private var connections: [Int: Connection] = [:]
    private var nextHandle = 1
    private var nextWrite = 1
    /// Every zxid committed (by a leader's quorum, or by a NEWLEADER quorum for the history it carried).
    private(set) var committed: [Int64: LoggedTxn] = [:]
    private var committedOrder: [Int64] = []
    /// Writes a leader acknowledged (committed on its quorum and applied: its client is answered).
    private(set) var acknowledged: [Int64] = []
    /// Established leaders by epoch.
    private(set) var leaders: [Int64: Int64] = [:]
    private(set) var violations: [String] = []
    private(set) var steps = 0
    private(set) var stats: [String: Int] = [:]
    var faultsActive = true
    var writesActive = true
    /// Records what each member does (`trace`), to read the story of a failing seed.
    var tracing = false
    private(set) var trace: [String] = []

    /// `size` voting members (sids 1...size), then `observers` observers.
    init(size: Int, observers: Int = 0, seed: UInt64, faults: Faults) throws {
        configuration = try QuorumConfiguration(servers: (1...(size + observers)).map {
            QuorumServer(id: Int64($0), host: "127.0.0.1", quorumPort: 1, electionPort: 2, type: $0 > size ? .observer : .participant)
        })
        self.faults = faults
        sids = configuration.servers.keys.sorted()
        rng = SplitMix64(seed: seed)
        // The voters start from different prefixes of one epoch-1 history, as after the old leader crashed;
        // the majority's common prefix was committed. Observers log only what was committed (INFORMs).
        let base = (1...6).map { Self.txn(zxid: Zxid.make(epoch: 1, counter: Int64($0)), write: -$0) }
        var lengths = (0..<size).map { _ in 2 + Int(rng.next() % 5) }
        let agreed = lengths.sorted()[size / 2]
        lengths += (0..<observers).map { _ in 1 + Int(rng.next() % UInt64(agreed)) }
        for txn in base.prefix(agreed) { record(txn, as: "initial history") }
        acknowledged = base.prefix(agreed).map(\.zxid)
        for (index, sid) in sids.enumerated() {
            let disk = Disk(files: [Array(base.prefix(lengths[index]))], acceptedEpoch: 1, currentEpoch: 1)
            members[sid] = Member(disk: disk, election: Self.election(sid, configuration, lastZxid: 0, epoch: 1), history: [])
            schedule(after: .milliseconds(Int64(rng.next() % 300)), .restart(sid))
        }
        schedule(after: .milliseconds(50), .faults)
        schedule(after: .milliseconds(100), .write)
    }

    static func txn(zxid: Int64, write: Int) -> LoggedTxn {
        LoggedTxn(
            header: TxnHeader(clientId: 0x51, cxid: Int32(truncatingIfNeeded: write), zxid: zxid, time: 1, type: OpCode.create.rawValue),
            body: .create(CreateTxn(path: "/w\(write)", data: [], acl: .openACLUnsafe, ephemeral: false, parentCVersion: -1)))
    }

    private static func election(_ sid: Int64, _ configuration: QuorumConfiguration, lastZxid: Int64, epoch: Int64) -> Election {
        Election(settings: .init(myID: sid, configuration: configuration), lastLoggedZxid: lastZxid, currentEpoch: epoch)
    }

    // MARK: Running

    /// Runs until `end`; returns false once an invariant broke.
    mutating func run(until end: ManualInstant) -> Bool {
        while violations.isEmpty {
            // The machines' own deadlines (election re-sends, the leader's ticks), earliest first.
            var deadline: (at: ManualInstant, sid: Int64)?
            for sid in sids {
                let member = members[sid].unsafelyUnwrapped
                if case .down = member.role { continue }
                if let at = member.election.nextDeadline, deadline.map({ at < $0.at }) ?? true { deadline = (at, sid) }
                if case let .leading(role) = member.role, let at = role.machine.nextDeadline, deadline.map({ at < $0.at }) ?? true {
                    deadline = (at, sid)
                }
            }
            let next = queue.earliest
            var at = next
            if let deadline, at.map({ deadline.at < $0 }) ?? true { at = deadline.at }
            guard let at, at <= end else { now = end; return true }
            now = max(now, at)
            steps += 1
            if let next, next <= (deadline?.at ?? next), let event = queue.pop() {
                handle(event)
            } else if let sid = deadline?.sid {
                tick(sid)
            }
        }
        return false
    }

    /// Every member alive, one established leader, every other member serving under it with its history.
    var isSettled: Bool {
        let established = members.compactMap { sid, member -> Int64? in
            if case let .leading(role) = member.role, role.machine.isEstablished { sid } else { nil }
        }
        guard established.count == 1, let leader = established.first, case let .leading(leading) = members[leader]!.role,
              leading.proposed.isEmpty else { return false }
        return members.allSatisfy { sid, member in
            if sid == leader { return true }
            guard case let .following(role) = member.role else { return false }
            return role.leader == leader && role.serving && role.history.map(\.zxid) == leading.history.map(\.zxid)
        }
    }

    /// Stops faults, heals every link and restarts every crashed member; writes go on for `writing` more (a
    /// member that missed some while connected would then lag, rather than be resynchronised by a reconnection).
    mutating func heal(writing: Duration = .seconds(3)) {
        faultsActive = false
        schedule(after: writing, .stopWrites)
        cut = []
        for sid in sids where !members[sid]!.alive { schedule(after: .zero, .restart(sid)) }
    }

    private mutating func schedule(after delay: Duration, _ event: Event) {
        queue.push(event, at: now.advanced(by: delay))
    }

    private func linked(_ a: Int64, _ b: Int64) -> Bool {
        a == b || (!cut.contains([a, b].sorted()) && members[a]!.alive && members[b]!.alive)
    }

    private mutating func count(_ key: String) { stats[key, default: 0] += 1 }

    /// Call only `if tracing` (the text costs more than the step).
    private mutating func note(_ sid: Int64, _ text: String) {
        trace.append("\(now.offset) \(sid): \(text)")
    }

    private mutating func handle(_ event: Event) {
        switch event {
        case let .election(from, to, notification):
            guard linked(from, to) else { return }
            let actions = members[to]!.election.receive(from: from, notification, now: now)
            performElection(to, actions)
        case let .quorum(handle, toLeader, message):
            deliver(message, on: handle, toLeader: toLeader)
        case let .leaderFsync(sid, generation):
            guard members[sid]!.generation == generation, case let .leading(role) = members[sid]!.role else { return }
            members[sid]!.disk.sync()
            let batch = role.unlogged
            role.unlogged = []
            role.fsyncScheduled = false
            for txn in batch {
                guard case let .leading(role) = members[sid]!.role else { return }
                let actions = role.machine.logged(txn.zxid, now: now)
                performLeader(sid, actions)
            }
        case let .followerFsync(sid, generation):
            guard members[sid]!.generation == generation else { return }
            syncLogged(sid)
        case let .txnLogRead(sid, generation, handle, peerLastZxid, through):
            guard members[sid]!.generation == generation, case let .leading(role) = members[sid]!.role else { return }
            // The reader returns the history's logged part from the learner's zxid's file on (TxnLogSyncReader).
            let snapshotZxid = members[sid]!.disk.snapshots.last?.last?.zxid ?? 0
            let logged = role.history.filter { $0.zxid > snapshotZxid && $0.zxid <= max(through, peerLastZxid) }
            let source = logged.isEmpty ? nil : TxnLogSyncSource(firstZxid: logged.first?.zxid, storageSize: 0, txns: logged)
            let actions = role.machine.txnLogRead(handle, peerLastZxid: peerLastZxid, source: source, lastSnapshotSize: 0)
            performLeader(sid, actions)
        case let .followerCheck(sid, generation):
            guard members[sid]!.generation == generation, case let .following(role) = members[sid]!.role else { return }
            let limit = tickTime * (role.machine.phase == .broadcast ? syncLimit : initLimit)
            if role.lastHeard.duration(to: now) > limit {
                endFollowing(sid, "no packet from the leader within \(limit)")
            } else {
                schedule(after: tickTime, .followerCheck(sid, generation: generation))
            }
        case let .connect(sid, generation, attempt):
            guard members[sid]!.generation == generation else { return }
            connect(sid, attempt: attempt)
        case .write:
            if writesActive { proposeWrites() }
            schedule(after: .milliseconds(Int64(1 + rng.next() % 40)), .write)
        case .faults:
            if faultsActive { injectFaults() }
            schedule(after: .milliseconds(50), .faults)
        case let .restart(sid):
            guard !members[sid]!.alive else { return }
            restart(sid)
        case let .heal(a, b):
            cut.remove([a, b].sorted())
        case .stopWrites:
            writesActive = false
        }
    }

    private mutating func tick(_ sid: Int64) {
        guard members[sid]!.alive else { return }
        if let at = members[sid]!.election.nextDeadline, at <= now {
            performElection(sid, members[sid]!.election.tick(now: now))
        }
        if let at = leaderDeadline(sid), at <= now, case let .leading(role) = members[sid]!.role {
            let actions = role.machine.tick(now: now)
            performLeader(sid, actions)
        }
    }

    private func leaderDeadline(_ sid: Int64) -> ManualInstant? {
        if case let .leading(role) = members[sid]!.role { role.machine.nextDeadline } else { nil }
    }

    // MARK: Election (QuorumPeer's loop)

    private mutating func performElection(_ sid: Int64, _ actions: [Election.Action]) {
        for action in actions {
            switch action {
            case let .send(to, notification):
                if to == sid {
                    schedule(after: .zero, .election(from: sid, to: to, notification))
                    continue
                }
                guard linked(sid, to), !chance(faults.dropRate) else { continue }
                schedule(after: randomDelay(), .election(from: sid, to: to, notification))
                if chance(faults.duplicateRate) { schedule(after: randomDelay(), .election(from: sid, to: to, notification)) }
            case .connectAll:
                break
            case let .decided(state, vote):
                guard case .looking = members[sid]!.role else { continue }
                if state == .leading { lead(sid) } else { follow(sid, leader: vote.leader) }
            }
        }
    }

    private mutating func setRole(_ sid: Int64, _ role: Role) {
        if tracing { note(sid, "role \(role) history ..\(members[sid]!.history.last.map { Zxid.hex($0.zxid) } ?? "-") files \(members[sid]!.disk.files.map { $0.map { Zxid.hex($0.zxid) } }) snaps \(members[sid]!.disk.snapshots.map { $0.last.map { Zxid.hex($0.zxid) } ?? "-" })") }
        members[sid]!.role = role
        members[sid]!.generation += 1
    }

    private mutating func lookAgain(_ sid: Int64) {
        setRole(sid, .looking)
        let member = members[sid]!
        let lastLogged = member.uncommitted.last?.zxid ?? member.history.last?.zxid ?? 0
        performElection(sid, members[sid]!.election.startLooking(lastLoggedZxid: lastLogged, currentEpoch: member.disk.currentEpoch, now: now))
    }

    private mutating func restart(_ sid: Int64) {
        let history: [LoggedTxn]
        do {
            history = try members[sid]!.disk.recover()
        } catch {
            violations.append("at \(now): member \(sid) cannot recover its disk: \(error.reason)")
            return
        }
        members[sid]!.history = history
        members[sid]!.uncommitted = []
        // A new process: a fresh election object (logical clock 0); its files survive.
        members[sid]!.election = Self.election(sid, configuration, lastZxid: history.last?.zxid ?? 0, epoch: members[sid]!.disk.currentEpoch)
        count("restarts")
        lookAgain(sid)
    }

    private mutating func crash(_ sid: Int64) {
        if tracing { note(sid, "crash, unsynced \(members[sid]!.disk.unsynced.map { Zxid.hex($0.zxid) })") }
        closeConnections(of: sid)
        let unsynced = members[sid]!.disk.unsynced.count
        members[sid]!.disk.crash(keeping: Int(rng.next() % UInt64(unsynced + 1)))
        setRole(sid, .down)
        count("crashes")
        schedule(after: .milliseconds(Int64(200 + rng.next() % 3000)), .restart(sid))
    }

    // MARK: Quorum connections

    private mutating func send(_ message: Message, on handle: Int, toLeader: Bool) {
        guard var connection = connections[handle], !connection.broken else { return }
        var at = now.advanced(by: randomDelay())
        if let previous = connection.lastDelivery[toLeader], at < previous { at = previous }  // FIFO, as TCP
        connection.lastDelivery[toLeader] = at
        connections[handle] = connection
        queue.push(.quorum(handle: handle, toLeader: toLeader, message), at: at)
    }

    private mutating func deliver(_ message: Message, on handle: Int, toLeader: Bool) {
        guard let connection = connections[handle], !connection.broken, toLeader ? connection.leaderOpen : connection.learnerOpen else { return }
        let sid = toLeader ? connection.leader : connection.learner
        guard members[sid]!.generation == (toLeader ? connection.leaderGeneration : connection.learnerGeneration) else { return }
        if toLeader {
            guard case let .leading(role) = members[sid]!.role else { return }
            if case let .packet(packet) = message {
                let actions = role.machine.receive(packet, from: handle, now: now)
                performLeader(sid, actions)
            } else {
                connections[handle]!.leaderOpen = false
                role.machine.disconnected(handle)
            }
            return
        }
        guard case let .following(role) = members[sid]!.role else { return }
        role.lastHeard = now
        switch message {
        case let .packet(packet):
            performFollower(sid, role.machine.receive(packet))
        case let .snapshot(history):
            guard case let .following(role) = members[sid]!.role else { return }
            if tracing { note(sid, "snapshot loaded ..\(history.last.map { Zxid.hex($0.zxid) } ?? "-")") }
            role.history = history
            members[sid]!.disk.restart()
        case .closed:
            connections[handle]!.learnerOpen = false
            endFollowing(sid, "the leader closed the connection")
        }
    }

    /// Closes `handle` from one end: the other end hears of it after what was sent before (unless cut).
    private mutating func close(_ handle: Int, byLeader: Bool) {
        guard connections[handle] != nil else { return }
        send(.closed, on: handle, toLeader: !byLeader)
        if byLeader { connections[handle]!.leaderOpen = false } else { connections[handle]!.learnerOpen = false }
        if let connection = connections[handle], connection.broken || (!connection.leaderOpen && !connection.learnerOpen) {
            connections[handle] = nil
        }
    }

    /// A role ends (or the process dies): every connection it has an open end of closes.
    private mutating func closeConnections(of sid: Int64) {
        for (handle, connection) in connections.sorted(by: { $0.key < $1.key }) {
            if connection.leader == sid && connection.leaderOpen && members[sid]!.generation == connection.leaderGeneration {
                close(handle, byLeader: true)
            } else if connection.learner == sid && connection.learnerOpen && members[sid]!.generation == connection.learnerGeneration {
                close(handle, byLeader: false)
            }
        }
    }

    // MARK: Leading (LeaderDriver)

    private mutating func lead(_ sid: Int64) {
        if !configuration.isVoter(sid) { violations.append("at \(now): observer \(sid) decided to lead") }
        var member = members[sid]!
        // QuorumPeer.lead: everything we logged is our history now.
        member.history += member.uncommitted
        member.uncommitted = []
        members[sid] = member
        let machine = Leader(
            settings: .init(myID: sid, configuration: configuration, tickTime: tickTime, initLimit: initLimit, syncLimit: syncLimit,
                            committedLogCount: 3, snapshotSizeFactor: 0),
            acceptedEpoch: member.disk.acceptedEpoch, currentEpoch: member.disk.currentEpoch,
            lastProcessedZxid: member.history.last?.zxid ?? 0, committedLog: [], now: now)
        setRole(sid, .leading(LeaderRole(machine: machine, history: member.history)))
        count("leaderships")
    }

    private mutating func performLeader(_ sid: Int64, _ actions: [Leader.Action]) {
        for action in actions {
            guard case let .leading(role) = members[sid]!.role else { return }
            switch action {
            case let .send(handle, packet):
                if packet.kind == .trunc { count("TRUNC") } else if packet.kind == .diff { count("DIFF") } else if packet.kind == .inform { count("INFORM") }
                if tracing && [.trunc, .diff, .snap, .newLeader].contains(packet.kind) { note(sid, "to \(connections[handle]?.learner ?? -1): \(packet.summary)") }
                send(.packet(packet), on: handle, toLeader: false)
            case let .sendSnapshot(handle):
                count("snaps")
                send(.snapshot(role.history), on: handle, toLeader: false)
            case let .readTxnLog(handle, peerLastZxid, through):
                schedule(after: randomDelay(), .txnLogRead(sid, generation: members[sid]!.generation, handle: handle, peerLastZxid: peerLastZxid, through: through))
            case let .close(handle, _):
                close(handle, byLeader: true)
            case let .persistAcceptedEpoch(epoch):
                members[sid]!.disk.acceptedEpoch = epoch
            case let .persistCurrentEpoch(epoch):
                members[sid]!.disk.currentEpoch = epoch
            case let .established(epoch):
                established(sid, epoch: epoch, history: role.history)
            case let .log(txn):
                role.proposed[txn.zxid] = txn
                role.unlogged.append(txn)
                members[sid]!.disk.write([txn])
                if !role.fsyncScheduled {
                    role.fsyncScheduled = true
                    schedule(after: fsyncDelay(), .leaderFsync(sid, generation: members[sid]!.generation))
                }
            case let .commit(zxid):
                guard let txn = role.proposed.removeValue(forKey: zxid) else {
                    violations.append("at \(now): leader \(sid) committed \(Zxid.hex(zxid)), which it never proposed")
                    return
                }
                role.history.append(txn)
                if committed[zxid] == nil, let last = committedOrder.last, zxid < last {
                    violations.append("at \(now): leader \(sid) committed \(Zxid.hex(zxid)) after \(Zxid.hex(last)) was committed")
                }
                record(txn, as: "leader \(sid)'s commit")
                acknowledged.append(zxid)
                count("commits")
            case .request, .touch, .revalidate:
                break
            case let .fail(reason):
                endLeading(sid, reason)
                return
            }
        }
    }

    private mutating func established(_ sid: Int64, epoch: Int64, history: [LoggedTxn]) {
        if let other = leaders[epoch] {
            violations.append("at \(now): \(sid) and \(other) both established epoch \(epoch)")
        }
        leaders[epoch] = sid
        // NEWLEADER's quorum holds the whole history: committed from now on. It must extend what was.
        let held = Set(history.map(\.zxid))
        let missing = committedOrder.filter { !held.contains($0) }
        if !missing.isEmpty {
            violations.append("at \(now): leader \(sid) of epoch \(epoch) lacks committed \(missing.map(Zxid.hex)) (acknowledged: \(missing.filter(acknowledged.contains).map(Zxid.hex)))")
        }
        for txn in history { record(txn, as: "leader \(sid)'s history at epoch \(epoch)") }
        checkPrefix(sid, history, "leader of epoch \(epoch)")
        members[sid]!.election.updateElectionVote(peerEpoch: epoch)
    }

    private mutating func endLeading(_ sid: Int64, _ reason: String) {
        guard case let .leading(role) = members[sid]!.role else { return }
        closeConnections(of: sid)
        // QuorumPeer.dropUncommittedTail: the log is cut back to what we committed.
        let lastCommitted = role.history.last?.zxid ?? 0
        members[sid]!.history = role.history
        members[sid]!.uncommitted = []
        if members[sid]!.disk.loggedTxns.contains(where: { $0.zxid > lastCommitted }) {
            do {
                members[sid]!.history = try members[sid]!.disk.truncate(after: lastCommitted)
            } catch {
                violations.append("at \(now): member \(sid) cannot recover after dropping its tail: \(error.reason)")
            }
        }
        count("leader exits")
        lookAgain(sid)
    }

    private mutating func proposeWrites() {
        for sid in members.keys.sorted() {
            guard case let .leading(role) = members[sid]!.role, role.machine.isEstablished else { continue }
            let txn = Self.txn(zxid: role.machine.nextZxid, write: nextWrite)
            nextWrite += 1
            let actions = role.machine.propose(txn, now: now)
            performLeader(sid, actions)
        }
    }

    // MARK: Following (FollowerDriver)

    private mutating func follow(_ sid: Int64, leader: Int64) {
        let member = members[sid]!
        let machine = LearnerStateMachine(
            myID: sid, isObserver: !configuration.isVoter(sid), acceptedEpoch: member.disk.acceptedEpoch, currentEpoch: member.disk.currentEpoch,
            lastLoggedZxid: member.uncommitted.last?.zxid ?? member.history.last?.zxid ?? 0)
        setRole(sid, .following(FollowerRole(machine: machine, leader: leader, history: member.history, tail: member.uncommitted, lastHeard: now)))
        connect(sid, attempt: 1)
    }

    /// `Learner.connectToLeader`: five tries a second apart.
    private mutating func connect(_ sid: Int64, attempt: Int) {
        guard case let .following(role) = members[sid]!.role else { return }
        let leader = role.leader
        guard linked(sid, leader), case let .leading(leading) = members[leader]!.role else {
            if attempt >= 5 {
                endFollowing(sid, "cannot connect to leader \(leader)")
            } else {
                schedule(after: .seconds(1), .connect(sid, generation: members[sid]!.generation, attempt: attempt + 1))
            }
            return
        }
        let handle = nextHandle
        nextHandle += 1
        connections[handle] = Connection(leader: leader, learner: sid, leaderGeneration: members[leader]!.generation,
                                         learnerGeneration: members[sid]!.generation)
        leading.machine.connected(handle, now: now)
        role.handle = handle
        role.lastHeard = now
        let start = role.machine.start()
        schedule(after: tickTime, .followerCheck(sid, generation: members[sid]!.generation))
        performFollower(sid, start)
    }

    private mutating func performFollower(_ sid: Int64, _ actions: [LearnerStateMachine.Action]) {
        for action in actions {
            if FollowerLog.waitsForSync(action) { syncLogged(sid) }
            guard case let .following(role) = members[sid]!.role, let handle = role.handle else { return }
            switch action {
            case let .send(packet):
                send(.packet(packet), on: handle, toLeader: true)
            case let .persistAcceptedEpoch(epoch):
                members[sid]!.disk.acceptedEpoch = epoch
            case let .persistCurrentEpoch(epoch):
                members[sid]!.disk.currentEpoch = epoch
            case .loadSnapshot:
                role.log.snapshotIncoming()
            case let .useLoggedHistory(zxid):
                if tracing { note(sid, "useLoggedHistory \(Zxid.hex(zxid)) tail \(role.log.tail.map { Zxid.hex($0.zxid) }) history ..\(role.history.last.map { Zxid.hex($0.zxid) } ?? "-")") }
                switch role.log.history(upTo: zxid, committedThrough: role.history.last?.zxid ?? 0) {
                case let .truncate(after: point):
                    count("truncs")
                    do {
                        role.history = try members[sid]!.disk.truncate(after: point)
                    } catch {
                        violations.append("at \(now): member \(sid) cannot recover after TRUNC to \(Zxid.hex(point)): \(error.reason)")
                        return
                    }
                case let .replay(txns):
                    role.history += txns
                }
                role.log.historyAdopted()
            case let .applyUnlogged(txn):
                role.log.appliedUnlogged()
                role.history.append(txn)
            case .takeSnapshot:
                if tracing { note(sid, "takeSnapshot at \(role.history.last.map { Zxid.hex($0.zxid) } ?? "-")") }
                members[sid]!.disk.takeSnapshot(role.history)
                role.log.snapshotTaken()
            case let .log(txns, acknowledge):
                members[sid]!.disk.write(txns)
                role.log.logged(txns, acknowledge: acknowledge)
                if !role.fsyncScheduled {
                    role.fsyncScheduled = true
                    schedule(after: fsyncDelay(), .followerFsync(sid, generation: members[sid]!.generation))
                }
            case let .commit(zxid):
                guard let txn = role.log.commit(zxid) else {
                    endFollowing(sid, "COMMIT \(Zxid.hex(zxid)) for a transaction that was never logged")
                    return
                }
                role.history.append(txn)
                if role.serving { checkPrefix(sid, role.history, "follower", from: role.history.count - 1) }
            case let .startServing(epoch):
                role.serving = true
                members[sid]!.election.updateElectionVote(peerEpoch: epoch)
                checkPrefix(sid, role.history, "follower starting to serve")
            case let .answerPing(zxid):
                send(.packet(QuorumPacket(.ping, zxid: zxid, data: [])), on: handle, toLeader: true)
            case .revalidated, .syncCompleted:
                break
            case let .fail(reason):
                endFollowing(sid, reason)
                return
            }
        }
    }

    /// The group commit: fsync what was written, then the ACKs it owes.
    private mutating func syncLogged(_ sid: Int64) {
        guard case let .following(role) = members[sid]!.role else { return }
        role.fsyncScheduled = false
        guard role.log.needsSync else { return }
        members[sid]!.disk.sync()
        let acks = role.log.synced()
        if let handle = role.handle {
            for zxid in acks { send(.packet(QuorumPacket(.ack, zxid: zxid)), on: handle, toLeader: true) }
        }
    }

    private mutating func endFollowing(_ sid: Int64, _ reason: String) {
        guard case let .following(role) = members[sid]!.role else { return }
        if let handle = role.handle { close(handle, byLeader: false) }
        members[sid]!.history = role.history
        members[sid]!.uncommitted = Array(role.log.tail)
        if role.log.aheadOfDisk {
            // FollowerDriver.restoreDiskHistoryIfAhead: the next role starts from what the disk holds.
            do {
                members[sid]!.history = try members[sid]!.disk.reload()
                role.log.restoredFromDisk()
                members[sid]!.uncommitted = Array(role.log.tail)
            } catch {
                violations.append("at \(now): member \(sid) cannot reload its disk: \(error.reason)")
            }
        }
        count("follower exits")
        lookAgain(sid)
    }

    // MARK: Invariants

    /// `txn` is committed: its zxid must name it alone.
    private mutating func record(_ txn: LoggedTxn, as source: String) {
        if let known = committed[txn.zxid] {
            if known != txn {
                violations.append("at \(now): \(source) commits \(Zxid.hex(txn.zxid)) as write \(txn.header.cxid), already committed as write \(known.header.cxid)")
            }
            return
        }
        committed[txn.zxid] = txn
        if let last = committedOrder.last, txn.zxid < last {
            committedOrder.insert(txn.zxid, at: committedOrder.firstIndex { $0 > txn.zxid }!)
        } else {
            committedOrder.append(txn.zxid)
        }
    }

    /// A serving member's history is the committed sequence's beginning (from `from` on: what was checked before
    /// is not checked again).
    private mutating func checkPrefix(_ sid: Int64, _ history: [LoggedTxn], _ what: String, from: Int = 0) {
        for index in from..<history.count {
            let txn = history[index]
            guard index < committedOrder.count, committedOrder[index] == txn.zxid, committed[txn.zxid]?.header == txn.header else {
                let expected = index < committedOrder.count ? Zxid.hex(committedOrder[index]) : "nothing"
                violations.append("at \(now): \(what) \(sid) holds \(Zxid.hex(txn.zxid)) (write \(txn.header.cxid)) at position \(index), where \(expected) is committed")
                return
            }
        }
    }

    /// After settling: every member holds every acknowledged write.
    func finalViolations() -> [String] {
        var found: [String] = []
        for (sid, member) in members.sorted(by: { $0.key < $1.key }) {
            let history: [LoggedTxn]
            switch member.role {
            case let .leading(role): history = role.history
            case let .following(role): history = role.history
            case .looking, .down: history = member.history
            }
            let held = Set(history.map(\.zxid))
            let lost = acknowledged.filter { !held.contains($0) }
            if !lost.isEmpty { found.append("member \(sid) lacks acknowledged \(lost.map(Zxid.hex))") }
        }
        return found
    }

    // MARK: Faults

    private mutating func injectFaults() {
        let sids = members.keys.sorted()
        if chance(faults.crashRate), let victim = sids.randomElement(using: &rng), members[victim]!.alive {
            crash(victim)
        }
        if chance(faults.partitionRate) {
            let a = sids.randomElement(using: &rng)!, b = sids.randomElement(using: &rng)!
            if a != b {
                cutLink(a, b, for: .milliseconds(Int64(200 + rng.next() % 4000)))
                count("partitions")
            }
        }
        if chance(faults.isolationRate), let victim = sids.randomElement(using: &rng) {
            let duration = Duration.milliseconds(Int64(200 + rng.next() % 4000))
            for other in sids where other != victim { cutLink(victim, other, for: duration) }
            count("isolations")
        }
    }

    /// Silent: what is in flight on their connections is lost, and nothing more arrives.
    private mutating func cutLink(_ a: Int64, _ b: Int64, for duration: Duration) {
        cut.insert([a, b].sorted())
        for (handle, connection) in connections where Set([connection.leader, connection.learner]) == Set([a, b]) {
            connections[handle]!.broken = true
        }
        schedule(after: duration, .heal(a, b))
    }

    private mutating func chance(_ probability: Double) -> Bool {
        probability > 0 && Double(rng.next() % 1_000_000) / 1_000_000 < probability
    }

    private mutating func randomDelay() -> Duration {
        .microseconds(Int64(rng.next() % UInt64(max(1, faults.maxDelay.components.seconds * 1_000_000 + faults.maxDelay.components.attoseconds / 1_000_000_000_000))))
    }

    private mutating func fsyncDelay() -> Duration {
        if faultsActive && chance(faults.slowDiskRate) {
            count("slow fsyncs")
            return .milliseconds(Int64(200 + rng.next() % 1_300))
        }
        return .microseconds(Int64(100 + rng.next() % 3_000))
    }
}
