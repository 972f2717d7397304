import Synchronization
import ZooKeeperPOSIX
import ZooKeeperProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Follows one leader until the connection fails: connects to its quorum port, runs
/// ``LearnerStateMachine`` over the channel and performs its actions against the replicated database and
/// the epoch files. One thread per leader connection; the database is shared with readers through a lock.
final class FollowerDriver: Sendable {
    struct Settings: Sendable {
        var myID: Int64
        /// An observer (OBSERVERINFO, INFORM instead of PROPOSAL/COMMIT, no ACKs, no vote).
        var isObserver = false
        var leader: QuorumServer
        var tickTime: Duration
        var initLimit: Int
        var syncLimit: Int
        /// The config string written to `/zookeeper/config` after a SNAP (reconfig disabled, as Apache).
        var configString: String
        var log: ServerLog = .silent
        /// Called on the follower's thread once synchronised, with the epoch.
        var onServing: (@Sendable (Int64) -> Void)? = nil
        /// The member's client side, told what is committed once this follower serves (nil: no clients).
        var clientSide: (any QuorumClientSide)? = nil
        /// Client activity reported to the leader with each PING reply.
        var activity: SessionActivity? = nil
        /// The server's metrics (packets received are added once per read, the sync time once synchronised).
        var metrics = ServerMetrics()
    }

    typealias Exit = QuorumRoleExit

    /// What followers and tests can observe.
    struct Status: Sendable {
        var phase: LearnerStateMachine.Phase = .discovery
        var syncMode: LearnerStateMachine.SyncMode?
        var epoch: Int64 = -1
    }

    let settings: Settings
    private struct Shared {
        /// The committed history; nil while it is lent to the client side, which holds it since this follower
        /// serves (``QuorumClientSide``), until ``finalState(returned:)`` gets it back.
        var database: ZooKeeperDatabase?
        /// Proposals logged after it and not yet committed, the ACKs they owe, and whether the database is
        /// ahead of the disk.
        var log: FollowerLog
        var epochs: EpochFiles
        var status = Status()

        /// The database during the sync phase, which ends before it is lent.
        mutating func held<T>(_ body: (inout ZooKeeperDatabase) throws -> T) throws -> T {
            guard database != nil else { throw Exit(reason: "the database is lent to the client side") }
            return try body(&database!)
        }
    }

    /// Shared with readers (status, tests) and ``finalState(returned:)``.
    private let shared: Mutex<Shared>
    /// The member's disk, outside `shared` as on the leader: `QuorumStorage` locks its own state, and its
    /// fsyncs must not hold up a status reader.
    private let storage: QuorumStorage?
    private let stopRequested = Atomic<Bool>(false)
    private let wakeup: WakeupPipe
    private let thread = ServiceThread()
    private let exit = Mutex<Exit?>(nil)
    /// The leader connection's writers: this thread, and the client side's forwarded requests once serving.
    private let wire = LeaderWire()

    /// `uncommitted`: proposals this peer logged (and acknowledged) earlier and never saw committed.
    /// `storage`: the member's disk (nil keeps everything in memory, for tests).
    init(settings: Settings, database: ZooKeeperDatabase, uncommitted: [LoggedTxn] = [], epochs: EpochFiles,
         storage: QuorumStorage? = nil) throws(SocketError) {
        self.settings = settings
        self.shared = Mutex(Shared(database: database, log: FollowerLog(uncommitted: uncommitted), epochs: epochs))
        self.storage = storage
        self.wakeup = try WakeupPipe()
    }

    /// Reads the replicated database; nil while it is lent to the member's client side (read it there).
    func withDatabase<T>(_ body: (ZooKeeperDatabase) -> T) -> T? {
        shared.withLock { shared -> T? in
            guard let database = shared.database else { return nil }
            return body(database)
        }
    }
    var status: Status { shared.withLock { $0.status } }
    var epochs: EpochFiles { shared.withLock { $0.epochs } }

    /// Once the role ended: the database and epochs for the next role. `returned` is what the client side's
    /// `stopServing` gave back — the database itself if this follower had lent it. Nil if it was lent and
    /// never came back (no history to go on: the caller must not take part in another election).
    func finalState(returned: ZooKeeperDatabase?) -> (database: ZooKeeperDatabase, epochs: EpochFiles)? {
        shared.withLock { state in
            if state.database == nil { state.database = returned }
            return state.database.map { ($0, state.epochs) }
        }
    }
    /// Proposals logged (acknowledged) and not yet committed.
    var uncommitted: [LoggedTxn] { shared.withLock { Array($0.log.tail) } }


    /// Follows until the leader is lost or ``stop()``; returns why it ended.
    func run() async -> Exit {
        thread.start(name: "zookeeper-follower-\(settings.myID)") { [self] in
            let reason = follow()
            exit.withLock { $0 = reason }
        }
        await thread.waitUntilFinished()
        return exit.withLock { $0 } ?? Exit(reason: "stopped")
    }

    func stop() {
        stopRequested.store(true, ordering: .releasing)
        wakeup.wake()
    }

    /// Forwards a client's write, `sync` or `createSession` to the leader (a REQUEST: `long sessionId,
    /// int cxid, int type` + the request body, with the client's identities as authinfo). False once the
    /// follower no longer serves: the caller drops the client.
    func forward(_ request: ClientRequest) -> Bool {
        var data = JuteWriter(capacity: 16 + request.body.count)
        data.write(request.sessionId)
        data.write(request.cxid)
        data.write(request.opCode.rawValue)
        data.writeRaw(request.body)
        return post(QuorumPacket(type: QuorumPacketType.request.rawValue, zxid: -1, data: data.bytes, authinfo: request.authIds))
    }

    /// Asks the leader whether a session that reconnected here is alive (`long sessionId, int timeout`).
    func revalidate(session: Int64, timeout: Int32) -> Bool {
        var data = JuteWriter(capacity: 12)
        data.write(session)
        data.write(timeout)
        return post(QuorumPacket(.revalidate, zxid: -1, data: data.bytes))
    }

    private func post(_ packet: QuorumPacket) -> Bool {
        let posted = wire.post(packet)
        if posted == .left { wakeup.wake() }
        return posted != .refused
    }

    // MARK: The follower thread

    private func follow() -> Exit {
        let socket: Socket
        do {
            socket = try connect()
        } catch {
            return error
        }
        wire.attach(socket)
        defer {
            wire.detach()  // posts are refused from now on, and nobody else writes to the descriptor
            socket.close()
        }
        let held = shared.withLock { state in
            state.database.map { (state.epochs.acceptedEpoch, state.epochs.currentEpoch, state.log.tail.last?.zxid ?? $0.lastProcessedZxid) }
        }
        // Held: a driver follows one leader connection, and lends its database only once it serves.
        guard let (acceptedEpoch, currentEpoch, lastZxid) = held else { return Exit(reason: "the database is lent to the client side") }
        var machine = LearnerStateMachine(myID: settings.myID, isObserver: settings.isObserver, acceptedEpoch: acceptedEpoch, currentEpoch: currentEpoch, lastLoggedZxid: lastZxid)
        var context = Context(socket: socket)
        do {
            try perform(machine.start(), &context)
            var reader = QuorumPacketReader()
            var scratch = [UInt8](repeating: 0, count: 64 * 1024)
            var lastHeard = ContinuousClock.now
            while true {
                // Apache's socket timeouts: initLimit ticks until synchronised, syncLimit ticks after. Measured
                // from the last packet read: wake-ups for client requests must not extend it.
                let limit = machine.phase == .broadcast ? settings.syncLimit : settings.initLimit
                let silence = settings.tickTime * limit
                let left = silence - lastHeard.duration(to: .now)
                guard left > .zero, try waitReadable(socket, within: left) else {
                    throw Exit(reason: "no packet from the leader within \(silence)")
                }
                if stopRequested.load(ordering: .acquiring) { throw Exit(reason: "stopped") }
                if context.serving { try wire.flush(timeout: settings.tickTime * settings.syncLimit) }
                switch try socket.read(into: &scratch) {
                case let .bytes(count):
                    reader.append(scratch[0..<count])
                    lastHeard = .now
                case .wouldBlock: continue
                case .endOfFile: throw Exit(reason: "the leader closed the connection")
                }
                while let item = try reader.next() {
                    switch item {
                    case let .packet(packet):
                        if machine.phase == .broadcast, let kind = packet.kind { context.count(kind) }
                        let actions = machine.receive(packet)
                        if actions.contains(where: { if case .loadSnapshot = $0 { true } else { false } }) { reader.expectSnapshot() }
                        try perform(actions, &context)
                    case let .snapshot(snapshot):
                        try load(snapshot, at: context.snapshotZxid)
                    }
                }
                try syncLogged()
                publishMetrics(&context)
            }
        } catch let exit as Exit {
            publishMetrics(&context)
            settings.log.info("follower \(settings.myID): \(exit.reason)")
            restoreDiskHistoryIfAhead()
            return exit
        } catch {
            settings.log.warning("follower \(settings.myID): \(error)")
            restoreDiskHistoryIfAhead()
            return Exit(reason: "\(error)")
        }
    }

    /// The sync ended after a SNAP (or after commits applied in memory following a SNAP or TRUNC) and before
    /// NEWLEADER's snapshot persisted them: the database is ahead of the disk. A next role that went on from
    /// it would log after a gap the disk cannot fill, and a restart would replay that log across the gap —
    /// silently missing transactions (found by `EnsembleSimulation`, seed 1982 of 5 members). The next role
    /// starts from what the disk holds instead, as after a crash; the next leader syncs it again. If the
    /// disk cannot be read, no database is left and the member stops taking part (`QuorumPeer.lostDatabase`).
    private func restoreDiskHistoryIfAhead() {
        guard let storage, shared.withLock({ $0.log.aheadOfDisk }) else { return }
        do {
            let restored = try storage.reload()
            shared.withLock { state in
                state.database = state.database.map { $0.carryingSettings(to: restored) } ?? restored
                state.log.restoredFromDisk()
            }
            settings.log.info("follower \(settings.myID): sync interrupted before NEWLEADER: back to the history on disk at \(Zxid.hex(restored.lastProcessedZxid))")
        } catch {
            settings.log.error("follower \(settings.myID): cannot reload the history on disk after an interrupted sync: \(error)")
            shared.withLock { $0.database = nil }
        }
    }

    private struct Context {
        let socket: Socket
        var snapshotZxid: Int64 = 0
        /// Synchronised: commits now go to the client side.
        var serving = false
        /// When this connection to the leader began: the sync time ends when we serve.
        let connectedAt = ContinuousClock.now
        /// PROPOSALs and COMMITs (INFORMs for an observer) received in broadcast, not yet in the metrics.
        var proposalsReceived: Int64 = 0
        var commitsReceived: Int64 = 0

        /// Follower/Observer.processPacket: LEARNER_PROPOSAL_RECEIVED_COUNT, LEARNER_COMMIT_RECEIVED_COUNT.
        mutating func count(_ kind: QuorumPacketType) {
            switch kind {
            case .proposal: proposalsReceived += 1
            case .commit, .inform: commitsReceived += 1
            default: break
            }
        }
    }

    /// Adds what the follower counted since the last call to the server's metrics (once per read).
    private func publishMetrics(_ context: inout Context) {
        guard context.proposalsReceived != 0 || context.commitsReceived != 0 else { return }
        let (proposals, commits) = (context.proposalsReceived, context.commitsReceived)
        context.proposalsReceived = 0
        context.commitsReceived = 0
        settings.metrics.record {
            $0.learnerProposalReceivedCount += proposals
            $0.learnerCommitReceivedCount += commits
        }
    }

    /// Connects to the leader's quorum port: up to 5 tries, as `Learner.connectToLeader`.
    private func connect() throws(Exit) -> Socket {
        let leader = settings.leader
        var lastError = "no attempt"
        for attempt in 1...5 {
            if stopRequested.load(ordering: .acquiring) { throw Exit(reason: "stopped") }
            do {
                guard let address = try SocketAddress.resolve(host: leader.host, port: leader.quorumPort).first else { continue }
                return try Socket.connect(to: address, timeout: settings.tickTime * settings.initLimit, interruptFD: wakeup.readFD)
            } catch {
                lastError = "\(error)"
                settings.log.info("follower \(settings.myID): connect to leader \(leader.id) failed (attempt \(attempt)): \(error)")
                _ = try? Poller.waitFor(fd: wakeup.readFD, events: Poller.readable, timeout: .seconds(1))
            }
        }
        throw Exit(reason: "cannot connect to leader \(leader.id) at \(leader.host):\(leader.quorumPort): \(lastError)")
    }

    private func waitReadable(_ socket: Socket, within timeout: Duration) throws -> Bool {
        var fds = [
            pollfd(fd: socket.fd, events: Poller.readable, revents: 0),
            pollfd(fd: wakeup.readFD, events: Poller.readable, revents: 0),
        ]
        guard try Poller.poll(&fds, timeout: timeout) > 0 else { return false }
        if fds[1].revents != 0 { wakeup.drain() }
        return true
    }

    private func send(_ packet: QuorumPacket) throws {
        try send([packet])
    }

    /// Sends `packets` in one write (a send per packet was a fifth of a busy follower's time).
    private func send(_ packets: [QuorumPacket]) throws {
        guard !packets.isEmpty else { return }
        try wire.write(packets, timeout: settings.tickTime * settings.syncLimit)
    }

    private func perform(_ actions: [LearnerStateMachine.Action], _ context: inout Context) throws {
        for action in actions {
            if FollowerLog.waitsForSync(action) { try syncLogged() }
            switch action {
            case let .send(packet):
                try send(packet)
            case let .persistAcceptedEpoch(epoch):
                try shared.withLock { state throws(PersistenceError) in try state.epochs.setAcceptedEpoch(epoch) }
            case let .persistCurrentEpoch(epoch):
                try shared.withLock { state throws(PersistenceError) in try state.epochs.setCurrentEpoch(epoch) }
            case let .loadSnapshot(zxid):
                context.snapshotZxid = zxid
                shared.withLock {
                    $0.status.syncMode = .snap
                    $0.log.snapshotIncoming()
                }
            case let .useLoggedHistory(zxid):
                try shared.withLock { state throws in
                    let log = state.log
                    try state.held { database in
                        let replayed: [LoggedTxn]
                        switch log.history(upTo: zxid, committedThrough: database.lastProcessedZxid) {
                        case let .truncate(after: point):
                            if let storage {
                                // The disk holds every logged proposal: cut it at the leader's point.
                                database = database.carryingSettings(to: try storage.truncate(after: point))
                                return
                            }
                            // Without a transaction log the committed part cannot be cut back.
                            guard point >= database.lastProcessedZxid else {
                                throw Exit(reason: "TRUNC to \(Zxid.hex(point)) below our committed \(Zxid.hex(database.lastProcessedZxid)) needs a transaction log (this member keeps none)")
                            }
                            replayed = log.logged(upTo: point)
                        case let .replay(txns):
                            replayed = txns
                        }
                        for txn in replayed { _ = database.replay(txn) }
                    }
                    state.log.historyAdopted()
                }
            case let .applyUnlogged(txn):
                try shared.withLock { state throws in
                    state.log.appliedUnlogged()
                    try state.held { _ = $0.replay(txn) }
                }
            case .takeSnapshot:
                let database = try shared.withLock { state throws in try state.held { $0 } }
                try storage?.snapshot(database)
                shared.withLock { $0.log.snapshotTaken() }
            case let .log(txns, acknowledge):
                // Durable before acknowledged: written now, fsynced and acknowledged in `syncLogged`.
                try storage?.write(txns)
                shared.withLock { $0.log.logged(txns, acknowledge: acknowledge) }
            case let .commit(zxid):
                let txn = try shared.withLock { state throws(Exit) -> LoggedTxn in
                    guard let txn = state.log.commit(zxid) else {
                        throw Exit(reason: "COMMIT \(Zxid.hex(zxid)) for a transaction that was never logged")
                    }
                    _ = state.database?.replay(txn)
                    if let database = state.database { storage?.committed(database) }
                    return txn
                }
                // Applied (and counted toward snapshots) there from now on.
                if context.serving { settings.clientSide?.committed(txn) }
            case let .startServing(epoch):
                shared.withLock {
                    $0.status.phase = .broadcast
                    $0.status.epoch = epoch
                    if $0.status.syncMode == nil { $0.status.syncMode = .diff }
                }
                settings.log.info("follower \(settings.myID): following leader \(settings.leader.id) in epoch \(epoch)")
                context.serving = true
                try wire.startDirect(timeout: settings.tickTime * settings.syncLimit)
                // Follower.followLeader: FOLLOWER_SYNC_TIME (Apache's starts after the epoch handshake, ours at connect).
                let syncTime = context.connectedAt.duration(to: .now).milliseconds
                if settings.isObserver {
                    settings.metrics.record { $0.observerSyncTime.add(syncTime) }
                } else {
                    settings.metrics.record { $0.followerSyncTime.add(syncTime) }
                }
                if let clientSide = settings.clientSide {
                    if let database = shared.withLock({ $0.database.take() }) {
                        clientSide.startServing(database: database, storage: storage, state: settings.isObserver ? .observing : .following, epoch: epoch)
                    }
                }
                settings.onServing?(epoch)
            case let .answerPing(zxid):
                // The touch table: `long sessionId, int timeout` for each session active since the last PING.
                var table = JuteWriter()
                for (session, timeout) in settings.activity?.drain() ?? [] {
                    table.write(session)
                    table.write(timeout)
                }
                try send(QuorumPacket(.ping, zxid: zxid, data: table.bytes))
            case let .revalidated(session, valid):
                settings.clientSide?.revalidated(session: session, valid: valid)
            case .syncCompleted:
                settings.clientSide?.syncCompleted()
            case let .fail(reason):
                throw Exit(reason: reason)
            }
        }
    }

    /// The group commit: one fsync for the proposals written since the last one, then their ACKs.
    private func syncLogged() throws {
        guard shared.withLock({ $0.log.needsSync }) else { return }
        try storage?.sync()
        let acks = shared.withLock { $0.log.synced() }
        try send(acks.map { QuorumPacket(.ack, zxid: $0) })  // one write for the batch's ACKs
    }

    /// Replaces the database with the leader's snapshot; `/zookeeper/config` gets our own view, as Apache's
    /// learner does with reconfig disabled.
    private func load(_ snapshot: SnapshotStreamReader, at zxid: Int64) throws {
        var database = try ZooKeeperDatabase(restoring: snapshot, lastProcessedZxid: zxid, extendedTypesEnabled: false, enforceQuota: false)
        database.setConfigNode(Array(settings.configString.utf8))
        try shared.withLock { state throws in try state.held { $0 = $0.carryingSettings(to: database) } }
        // Our old log continues from the snapshot on (it is written at NEWLEADER).
        try storage?.restart(after: zxid)
        settings.log.info("follower \(settings.myID): loaded the leader's snapshot at \(Zxid.hex(zxid))")
    }
}
