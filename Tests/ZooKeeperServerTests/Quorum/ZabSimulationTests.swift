import Testing
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// Our leader and our learners' state machines on a simulated network: each connection is FIFO (TCP)
/// with random delays, learners start from different histories (in sync, behind, empty, holding an
/// uncommitted proposal), a learner may drop its connection and come back, and the leader proposes
/// writes at random moments. Checked at every step: commits are in zxid order and only after a quorum
/// of acknowledgements; at the end every learner's tree equals the leader's.
@Suite struct ZabSimulationTests {
    typealias Leader = LeaderStateMachine<ManualInstant>

    static let configuration = try! QuorumConfiguration(servers: (1...3).map {
        QuorumServer(id: Int64($0), host: "127.0.0.1", quorumPort: 1, electionPort: 2)
    })

    static func txn(_ zxid: Int64, _ index: Int) -> LoggedTxn {
        LoggedTxn(
            header: TxnHeader(clientId: 0x77, cxid: Int32(index), zxid: zxid, time: 1000 + Int64(index), type: OpCode.create.rawValue),
            body: .create(CreateTxn(path: "/n\(index)", data: Array("v\(index)".utf8), acl: .openACLUnsafe, ephemeral: false, parentCVersion: -1)))
    }

    struct Learner {
        var machine: LearnerStateMachine
        var database: ZooKeeperDatabase
        /// Every proposal logged, committed or not (the "disk").
        var log: [LoggedTxn]
        var handle: Int
        var acceptedEpoch: Int64
        var currentEpoch: Int64
        var lastLogged: Int64 { max(log.last?.zxid ?? 0, database.lastProcessedZxid) }
    }

    enum Message {
        case packet(QuorumPacket)
        case snapshot([UInt8], zxid: Int64)
    }

    struct Network {
        var rng: SplitMix64
        var now = ManualInstant.at(0)
        /// (deliverAt, order, handle, toLeader, message)
        var queue: [(at: ManualInstant, order: Int, handle: Int, toLeader: Bool, message: Message)] = []
        var order = 0
        var lastDelivery: [String: ManualInstant] = [:]

        mutating func send(_ handle: Int, toLeader: Bool, _ message: Message) {
            // FIFO per direction: never before the previous message on the same connection.
            let key = "\(handle)-\(toLeader)"
            var at = now.advanced(by: .microseconds(Int64(rng.next() % 20_000)))
            if let previous = lastDelivery[key], at < previous { at = previous }
            lastDelivery[key] = at
            order += 1
            queue.append((at, order, handle, toLeader, message))
        }
    }

    @Test func leaderAndLearnersConvergeUnderRandomTiming() throws {
        var reconnects = 0, truncs = 0, snaps = 0, diffs = 0
        for seed in UInt64(1)...150 {
            let outcome = try Self.run(seed: seed)
            reconnects += outcome.reconnects
            truncs += outcome.modes.filter { $0 == "TRUNC" }.count
            snaps += outcome.modes.filter { $0 == "SNAP" }.count
            diffs += outcome.modes.filter { $0 == "DIFF" }.count
        }
        #expect(reconnects > 30 && truncs > 0 && snaps > 100 && diffs > 100, "paths exercised: \(reconnects) reconnects, \(truncs) TRUNC, \(snaps) SNAP, \(diffs) DIFF")
    }

    struct Outcome {
        var reconnects = 0
        var modes: [String] = []
    }

    static func run(seed: UInt64) throws -> Outcome {
        var network = Network(rng: SplitMix64(seed: seed))
        var outcome = Outcome()
        // The leader (sid 3) holds 6 committed transactions of epoch 1; learner 1 has 4 of them, learner 2 none.
        let history = (1...6).map { txn(Zxid.make(epoch: 1, counter: Int64($0)), $0) }
        var leaderDatabase = ZooKeeperDatabase()
        for txn in history { leaderDatabase.replay(txn) }
        var leader = Leader(
            settings: .init(myID: 3, configuration: configuration, tickTime: .milliseconds(100), initLimit: 50, syncLimit: 50),
            acceptedEpoch: 1, currentEpoch: 1, lastProcessedZxid: leaderDatabase.lastProcessedZxid,
            committedLog: Array(history.suffix(3)), now: network.now)
        var learners: [Int64: Learner] = [:]
        for (sid, prefix) in [(Int64(1), 4), (Int64(2), 0)] {
            var database = ZooKeeperDatabase()
            for txn in history.prefix(prefix) { database.replay(txn) }
            var learner = Learner(
                machine: LearnerStateMachine(myID: sid, acceptedEpoch: 1, currentEpoch: 1, lastLoggedZxid: database.lastProcessedZxid),
                database: database, log: [], handle: Int(sid), acceptedEpoch: 1, currentEpoch: 1)
            leader.connected(learner.handle, now: network.now)
            for action in learner.machine.start() { if case let .send(packet) = action { network.send(learner.handle, toLeader: true, .packet(packet)) } }
            learners[sid] = learner
        }
        var committed: [Int64] = []
        var acked: [Int64: Set<Int64>] = [:]
        var written = 6
        var nextHandle = 10
        var proposalsLeft = 12

        func leaderActions(_ actions: [Leader.Action]) throws {
            for action in actions {
                switch action {
                case let .send(handle, packet):
                    network.send(handle, toLeader: false, .packet(packet))
                    if packet.kind == .diff { outcome.modes.append("DIFF") }
                    if packet.kind == .trunc { outcome.modes.append("TRUNC") }
                    if packet.kind == .snap { outcome.modes.append("SNAP") }
                case let .sendSnapshot(handle):
                    network.send(handle, toLeader: false, .snapshot(SnapshotStream.encode(leaderDatabase), zxid: leaderDatabase.lastProcessedZxid))
                case let .readTxnLog(handle, peerLastZxid, _):
                    // The simulated leader has no log files (its snapshotSizeFactor is negative): nothing usable.
                    try leaderActions(leader.txnLogRead(handle, peerLastZxid: peerLastZxid, source: nil, lastSnapshotSize: 0))
                case let .log(txn):
                    try leaderActions(leader.logged(txn.zxid, now: network.now))
                case let .commit(zxid):
                    #expect(zxid > (committed.last ?? 0), "seed \(seed): commits in order")
                    #expect(configuration.isQuorum((acked[zxid] ?? []).union([3])), "seed \(seed): \(Zxid.hex(zxid)) committed without a quorum")
                    committed.append(zxid)
                    leaderDatabase.replay(pendingLeader.removeValue(forKey: zxid)!)
                case .close, .fail:
                    Issue.record("seed \(seed): \(action)")
                case .persistAcceptedEpoch, .persistCurrentEpoch, .established, .request, .touch, .revalidate:
                    break
                }
            }
        }
        var pendingLeader: [Int64: LoggedTxn] = [:]

        func learnerActions(_ sid: Int64, _ actions: [LearnerStateMachine.Action]) {
            var learner = learners[sid]!
            for action in actions {
                switch action {
                case let .send(packet):
                    if packet.kind == .ack { acked[packet.zxid, default: []].insert(sid) }
                    network.send(learner.handle, toLeader: true, .packet(packet))
                case let .persistAcceptedEpoch(epoch): learner.acceptedEpoch = epoch
                case let .persistCurrentEpoch(epoch): learner.currentEpoch = epoch
                case .loadSnapshot: break
                case let .useLoggedHistory(zxid):
                    // Apache reloads snapshot + log: logged transactions through zxid are history.
                    learner.log.removeAll { $0.zxid > zxid }
                    for txn in learner.log where txn.zxid > learner.database.lastProcessedZxid { learner.database.replay(txn) }
                    learner.log = []
                case let .applyUnlogged(txn): learner.database.replay(txn)
                case .takeSnapshot, .startServing, .answerPing, .revalidated, .syncCompleted: break
                case let .log(txns, acknowledge):
                    learner.log += txns
                    if acknowledge {
                        for txn in txns {
                            acked[txn.zxid, default: []].insert(sid)
                            network.send(learner.handle, toLeader: true, .packet(QuorumPacket(.ack, zxid: txn.zxid)))
                        }
                    }
                case let .commit(zxid):
                    guard let txn = learner.log.first(where: { $0.zxid == zxid }) else {
                        Issue.record("seed \(seed): learner \(sid) commits \(Zxid.hex(zxid)) it never logged")
                        continue
                    }
                    learner.database.replay(txn)
                case let .fail(reason):
                    Issue.record("seed \(seed): learner \(sid) failed: \(reason)")
                }
            }
            learners[sid] = learner
        }

        var steps = 0
        while steps < 5000 {
            steps += 1
            // Random events between deliveries: a proposal, or a learner reconnecting.
            if leader.isEstablished && proposalsLeft > 0 && network.rng.next() % 4 == 0 {
                written += 1
                proposalsLeft -= 1
                let txn = txn(leader.nextZxid, written)
                pendingLeader[txn.zxid] = txn
                try leaderActions(leader.propose(txn, now: network.now))
            }
            if leader.isEstablished && network.rng.next() % 40 == 0 {
                // A learner's connection drops; it comes back with what it had logged (the "disk").
                let sid = Int64(1 + network.rng.next() % 2)
                var learner = learners[sid]!
                if learner.machine.phase == .broadcast {
                    leader.disconnected(learner.handle)
                    network.queue.removeAll { $0.handle == learner.handle }
                    nextHandle += 1
                    learner.handle = nextHandle
                    learner.machine = LearnerStateMachine(
                        myID: sid, acceptedEpoch: learner.acceptedEpoch, currentEpoch: learner.currentEpoch, lastLoggedZxid: learner.lastLogged)
                    learners[sid] = learner
                    leader.connected(learner.handle, now: network.now)
                    learnerActions(sid, learners[sid]!.machine.start())
                    outcome.reconnects += 1
                }
            }
            guard let next = network.queue.min(by: { ($0.at, $0.order) < ($1.at, $1.order) }) else {
                if proposalsLeft == 0 || !leader.isEstablished { break }
                network.now = network.now.advanced(by: .milliseconds(5))
                continue
            }
            network.queue.removeAll { $0.order == next.order }
            network.now = max(network.now, next.at)
            if next.toLeader {
                guard case let .packet(packet) = next.message else { continue }
                try leaderActions(leader.receive(packet, from: next.handle, now: network.now))
            } else {
                guard let sid = learners.first(where: { $0.value.handle == next.handle })?.key else { continue }
                switch next.message {
                case let .packet(packet):
                    learnerActions(sid, learners[sid]!.machine.receive(packet))
                case let .snapshot(bytes, zxid):
                    var reader = SnapshotStreamReader(maxLength: 1 << 20)
                    #expect(try reader.consume(bytes[...]) == bytes.count)
                    learners[sid]!.database = try ZooKeeperDatabase(restoring: reader, lastProcessedZxid: zxid, extendedTypesEnabled: false, enforceQuota: false)
                    learners[sid]!.log = []
                }
            }
        }
        #expect(proposalsLeft == 0, "seed \(seed): the leader was established and proposed everything")
        #expect(committed.count == 12, "seed \(seed): every proposal committed (\(committed.count))")
        for (sid, learner) in learners {
            let mine = learner.database.tree.nodes, theirs = leaderDatabase.tree.nodes
            let differing = Set(mine.keys).union(theirs.keys).filter { mine[$0] != theirs[$0] }.sorted()
            #expect(differing.isEmpty, "seed \(seed): learner \(sid) differs at \(differing.prefix(4)); phase \(learner.machine.phase) last \(Zxid.hex(learner.database.lastProcessedZxid)) vs \(Zxid.hex(leaderDatabase.lastProcessedZxid)) pending \(learner.machine.pending.map(Zxid.hex)) log \(learner.log.map { Zxid.hex($0.zxid) }) queue \(network.queue.count) steps \(steps) first \(differing.dropFirst().first.map { (mine[$0], theirs[$0]) } as Any)")
            #expect(learner.currentEpoch == 2 && learner.acceptedEpoch == 2)
        }
        return outcome
    }
}
