import Synchronization
import ZooKeeperPOSIX
import ZooKeeperProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Leads an ensemble until it loses its quorum: accepts learners on the quorum port, runs
/// ``LeaderStateMachine`` and performs its actions. Writes — our own (``submit(_:)``) and those learners
/// forward as REQUEST — are prepared against a speculative copy of the database that already holds every
/// outstanding proposal (what Apache's PrepRequestProcessor keeps as `outstandingChanges`), proposed, and
/// applied to the committed database once a quorum holds them (by the client side, which holds that tree
/// while this leader serves).
final class LeaderDriver: Sendable {
    struct Settings: Sendable {
        var myID: Int64
        var configuration: QuorumConfiguration
        var tickTime: Duration
        var initLimit: Int
        var syncLimit: Int
        var log: ServerLog = .silent
        /// Called on the leader's thread once a quorum acknowledged NEWLEADER, with the epoch.
        var onServing: (@Sendable (Int64) -> Void)? = nil
        /// The member's client side, told what is committed once the leader is established (nil: no clients).
        var clientSide: (any QuorumClientSide)? = nil
        /// The member's own clients' activity: touches for the global session tracker.
        var activity: SessionActivity? = nil
        /// Fault injection for tests: added to every tree digest proposed (0: digests are right).
        var digestFault: Int64 = 0
        /// `zookeeper.snapshotSizeFactor`: learners older than the committed log may be synced from our txn log.
        var snapshotSizeFactor = 0.33
        /// `zookeeper.commitLogCount` (tests lower it below Apache's minimum of 500).
        var committedLogCount = 500
        /// The server's metrics (proposals, commits, syncs, quorum ACK latency are added once per loop turn).
        var metrics = ServerMetrics()
    }

    struct Status: Sendable {
        var phase: LeaderStateMachine<ContinuousClock.Instant>.Phase = .discovery
        var epoch: Int64 = -1
        var learners = 0
        var syncedFollowers = 0
        var proposalSizes = BufferStats()
        /// Syncs chosen by mode since this leadership began.
        var syncCounts = LeaderStateMachine<ContinuousClock.Instant>.SyncCounts()
        /// When the leadership was established (Apache's `leaderStartTime`, for `zk_leader_uptime`).
        var establishedAt: ContinuousClock.Instant?
    }

    typealias Exit = QuorumRoleExit
    /// The state machine gave up leadership: ends ``run()``, unlike a failing learner connection.
    private struct LeadershipLost: Error { var reason: String }
    private typealias Machine = LeaderStateMachine<ContinuousClock.Instant>

    private enum Command {
        case submit(ClientRequest, CheckedContinuation<ProcessResult, any Error>)
        /// A request from this member's own clients; its outcome arrives through the client side.
        case forward(ClientRequest)
        case revalidate(session: Int64)
        /// A learner's snapshot, encoded off the leader's thread.
        case snapshotReady(handle: Int, bytes: [UInt8])
        /// What our txn log holds for a learner's sync, read off the leader's thread.
        case txnLogRead(handle: Int, peerLastZxid: Int64, source: TxnLogSyncSource?, lastSnapshotSize: Int64)
    }

    /// The learner handle that stands for this member's own client side (learners' handles start at 1).
    private static let localHandle = 0

    private struct Shared {
        /// The committed database; nil while it is lent to the client side, which holds it since this leader
        /// serves (``QuorumClientSide``), until ``finalState(returned:)`` gets it back.
        var database: ZooKeeperDatabase?
        var epochs: EpochFiles
        var status = Status()
        var commands: [Command] = []
        var stopped = false
    }

    let settings: Settings
    private let listener: Socket
    private let shared: Mutex<Shared>
    /// The member's disk, outside `shared`: its fsyncs must not hold the lock the client side takes to submit
    /// a write or read the status (the pipeline stalled behind every group commit, and for seconds behind one
    /// on a loaded disk). `QuorumStorage` locks its own state.
    private let storage: QuorumStorage?
    private let wakeup: WakeupPipe
    private let thread = ServiceThread()
    private let exit = Mutex<Exit?>(nil)

    /// `storage`: the member's disk (nil keeps everything in memory, for tests).
    init(settings: Settings, listener: Socket, database: ZooKeeperDatabase, epochs: EpochFiles,
         storage: QuorumStorage? = nil) throws(SocketError) {
        self.settings = settings
        self.listener = listener
        self.storage = storage
        self.shared = Mutex(Shared(database: database, epochs: epochs))
        self.wakeup = try WakeupPipe()
    }

    /// Reads the committed database; nil while it is lent to the member's client side (read it there).
    func withDatabase<T>(_ body: (ZooKeeperDatabase) -> T) -> T? {
        shared.withLock { shared -> T? in
            guard let database = shared.database else { return nil }
            return body(database)
        }
    }

    var status: Status { shared.withLock { $0.status } }

    /// Once the role ended: the database and epochs for the next role. `returned` is what the client side's
    /// `stopServing` gave back — the database itself if this leader had lent it. Nil if it was lent and never
    /// came back (no history to go on: the caller must not take part in another election).
    func finalState(returned: ZooKeeperDatabase?) -> (database: ZooKeeperDatabase, epochs: EpochFiles)? {
        shared.withLock { shared in
            if shared.database == nil { shared.database = returned }
            return shared.database.map { ($0, shared.epochs) }
        }
    }

    /// Leads until the quorum is lost or ``stop()``; returns why it ended. The listener stays open.
    func run() async -> Exit {
        thread.start(name: "zookeeper-leader-\(settings.myID)") { [self] in
            let reason = lead()
            exit.withLock { $0 = reason }
        }
        await thread.waitUntilFinished()
        return exit.withLock { $0 } ?? Exit(reason: "stopped")
    }

    func stop() {
        shared.withLock { $0.stopped = true }
        wakeup.wake()
    }

    /// Proposes a client write and returns its result once a quorum holds it.
    func submit(_ request: ClientRequest) async throws -> ProcessResult {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = shared.withLock { shared -> Bool in
                guard !shared.stopped else { return false }
                shared.commands.append(.submit(request, continuation))
                return true
            }
            if accepted { wakeup.wake() } else { continuation.resume(throwing: Exit(reason: "not leading")) }
        }
    }

    /// Proposes a write, `sync` or `createSession` from this member's clients; the commit (or the sync's
    /// answer) reaches the client side like any other. False once not leading: the caller drops the client.
    func forward(_ request: ClientRequest) -> Bool { post(.forward(request)) }

    /// Whether a session that reconnected to this member is alive; the answer reaches the client side.
    func revalidate(session: Int64, timeout: Int32) -> Bool { post(.revalidate(session: session)) }

    private func post(_ command: Command) -> Bool {
        let accepted = shared.withLock { shared -> Bool in
            guard !shared.stopped else { return false }
            shared.commands.append(command)
            return true
        }
        if accepted { wakeup.wake() }
        return accepted
    }

    // MARK: The leader thread

    private final class Connection {
        let socket: Socket
        var input = QuorumPacketReader()
        var output: [UInt8] = []
        var written = 0
        /// A snapshot for this learner is being encoded: what is sent meanwhile waits in `deferred`.
        var awaitingSnapshot = false
        var deferred: [UInt8] = []
        init(socket: Socket) { self.socket = socket }
    }

    private struct Loop {
        var machine: Machine
        var speculative: ZooKeeperDatabase
        var connections: [Int: Connection] = [:]
        var nextHandle = 1
        /// Our own writes waiting for their commit, by zxid.
        var waiting: [Int64: (CheckedContinuation<ProcessResult, any Error>, ProcessResult)] = [:]
        /// Proposed transactions by zxid, until committed.
        var proposed: [Int64: LoggedTxn] = [:]
        /// Learners' `sync` requests: answered once everything proposed before them is committed.
        var syncs: [(handle: Int, after: Int64)] = []
        /// Which member serves each session: writes forwarded by another are refused with SESSIONMOVED.
        var owners: SessionOwners
        /// Our proposals not yet on our disk: logged together, with one fsync, before the thread waits
        /// again (group commit, as Apache's SyncRequestProcessor).
        var unlogged: [LoggedTxn] = []
        /// Commits (and this member's syncs they complete) not yet applied here: applied right after the
        /// next flush, so the COMMITs leave for the learners first — as Apache's leader queues COMMIT to its
        /// learners before its CommitProcessor applies the txn — and a batch's local work does not delay them.
        var unapplied: [LocalCompletion] = []
        /// Global sessions: the leader alone expires them (learners report their clients' activity).
        var sessions: SessionTracker
        let startedAt = ContinuousClock.now
        var establishedAt: ContinuousClock.Instant?

        /// Monotonic milliseconds for the session tracker.
        var monotonicNow: Int64 {
            startedAt.duration(to: .now).milliseconds
        }
    }

    private enum LocalCompletion {
        case commit(LoggedTxn)
        case syncCompleted
    }

    private func lead() -> Exit {
        // Held: a driver leads once, and lends its database only once it leads.
        guard let (database, epochs) = shared.withLock({ shared in shared.database.map { ($0, shared.epochs) } }) else {
            return Exit(reason: "the database is lent to the client side")
        }
        let hasLog = storage != nil
        var loop = Loop(
            machine: Machine(
                settings: .init(myID: settings.myID, configuration: settings.configuration, tickTime: settings.tickTime,
                                initLimit: settings.initLimit, syncLimit: settings.syncLimit,
                                committedLogCount: settings.committedLogCount,
                                snapshotSizeFactor: hasLog ? settings.snapshotSizeFactor : -1),
                acceptedEpoch: epochs.acceptedEpoch, currentEpoch: epochs.currentEpoch,
                lastProcessedZxid: database.lastProcessedZxid, committedLog: [], now: .now),
            speculative: database,
            owners: SessionOwners(leader: settings.myID),
            sessions: SessionTracker(tickTime: Int(settings.tickTime.milliseconds), serverID: settings.myID, now: 0))
        // Every session in the history gets a full timeout from now (Apache's new leader does the same).
        for (id, timeout) in database.sessions { loop.sessions.add(id: id, timeout: timeout, now: 0) }
        defer {
            // Committed is committed: applied to the database the next role starts from, whatever ended this one.
            applyCommitted(&loop)
            publish(&loop)  // what this leadership counted in its last turn goes to the server's metrics too
            // From now on submits fail at once instead of waiting for a thread that is gone.
            shared.withLock { $0.stopped = true }
            for connection in loop.connections.values { connection.socket.close() }
            for (continuation, _) in loop.waiting.values { continuation.resume(throwing: Exit(reason: "leadership lost")) }
            let pending = shared.withLock { shared in
                defer { shared.commands = [] }
                return shared.commands
            }
            for case let .submit(_, continuation) in pending { continuation.resume(throwing: Exit(reason: "leadership lost")) }
        }
        var scratch = [UInt8](repeating: 0, count: 64 * 1024)
        do {
            while true {
                let (commands, stopped) = shared.withLock { shared in
                    defer { shared.commands = [] }
                    return (shared.commands, shared.stopped)
                }
                if stopped {
                    // Commands taken with the stop flag would otherwise never be answered.
                    for case let .submit(_, continuation) in commands { continuation.resume(throwing: Exit(reason: "leadership lost")) }
                    return Exit(reason: "stopped")
                }
                for command in commands {
                    switch command {
                    case let .submit(request, continuation): try submit(request, continuation, &loop)
                    case let .forward(request): try propose(request, from: Self.localHandle, &loop)
                    case let .revalidate(session):
                        let valid = loop.sessions.touch(session, now: loop.monotonicNow)
                        if valid { _ = loop.owners.revalidated(session, at: settings.myID) }
                        settings.clientSide?.revalidated(session: session, valid: valid)
                    case let .snapshotReady(handle, bytes):
                        snapshotReady(bytes, for: handle, &loop)
                    case let .txnLogRead(handle, peerLastZxid, source, lastSnapshotSize):
                        try txnLogRead(source, lastSnapshotSize: lastSnapshotSize, for: handle, peerLastZxid: peerLastZxid, &loop)
                    }
                }
                for (session, _) in settings.activity?.drain() ?? [] { loop.sessions.touch(session, now: loop.monotonicNow) }
                flushAll(&loop)  // proposals go out before our own fsync of them, so the learners' overlap it
                try logProposals(&loop)
                try pollOnce(&loop, scratch: &scratch)
                try perform(loop.machine.tick(now: .now), &loop)
                try expireSessions(&loop)
                flushAll(&loop)
                try logProposals(&loop)
                publish(&loop)
            }
        } catch let lost as LeadershipLost {
            settings.log.info("leader \(settings.myID): \(lost.reason)")
            return Exit(reason: lost.reason)
        } catch {
            settings.log.warning("leader \(settings.myID): \(error)")
            return Exit(reason: "\(error)")
        }
    }

    private func publish(_ loop: inout Loop) {
        let status = Status(
            phase: loop.machine.phase, epoch: loop.machine.epoch, learners: loop.machine.learnerCount,
            syncedFollowers: loop.machine.syncedParticipants.count - 1, proposalSizes: loop.machine.proposalSizes,
            syncCounts: loop.machine.syncCounts, establishedAt: loop.establishedAt)
        shared.withLock { $0.status = status }
        if let counted = loop.machine.takeMetrics() {
            settings.metrics.record { metrics in
                metrics.proposalCount += counted.proposals
                metrics.commitCount += counted.commits
                metrics.diffCount += counted.diffs
                metrics.snapCount += counted.snaps
                metrics.quorumAckLatency.add(contentsOf: counted.quorumAckLatencies)
            }
        }
    }

    private func pollOnce(_ loop: inout Loop, scratch: inout [UInt8]) throws {
        flushAll(&loop)  // what the commands, timers and the log's fsync queued since the last poll
        var handles: [Int] = []
        var fds = [
            pollfd(fd: wakeup.readFD, events: Poller.readable, revents: 0),
            pollfd(fd: listener.fd, events: Poller.readable, revents: 0),
        ]
        for (handle, connection) in loop.connections {
            handles.append(handle)
            let writable = connection.written < connection.output.count ? Poller.writable : 0
            fds.append(pollfd(fd: connection.socket.fd, events: Poller.readable | writable, revents: 0))
        }
        var timeout = loop.machine.nextDeadline.map { max(.zero, $0 - .now) } ?? settings.tickTime
        if let expiry = loop.sessions.nextExpiry {
            timeout = min(timeout, .milliseconds(max(0, expiry - loop.monotonicNow)))
        }
        _ = try Poller.poll(&fds, timeout: timeout)
        if fds[0].revents != 0 { wakeup.drain() }
        if fds[1].revents != 0 {
            while let socket = try listener.accept() {
                socket.setNoDelay()
                let handle = loop.nextHandle
                loop.nextHandle += 1
                loop.connections[handle] = Connection(socket: socket)
                loop.machine.connected(handle, now: .now)
            }
        }
        for (index, handle) in handles.enumerated() where fds[index + 2].revents != 0 {
            guard let connection = loop.connections[handle] else { continue }
            do {
                try flush(connection)
                guard fds[index + 2].revents & (Poller.readable | Poller.failed) != 0 else { continue }
                switch try connection.socket.read(into: &scratch) {
                case let .bytes(count): connection.input.append(scratch[0..<count])
                case .wouldBlock: continue
                case .endOfFile: throw Exit(reason: "closed by the learner")
                }
                while case let .packet(packet)? = try connection.input.next() {
                    try perform(loop.machine.receive(packet, from: handle, now: .now), &loop)
                }
                // A learner's ACKs made commits: they leave now rather than after the other learners' reads
                // (a COMMIT is on every write's critical path; at most one extra write per learner per pass).
                if !loop.unapplied.isEmpty { flushAll(&loop) }
            } catch let lost as LeadershipLost {
                throw lost
            } catch {
                close(handle, "\(error)", &loop)
            }
        }
        // The PROPOSALs and COMMITs the packets just read led to: one write per learner, and before our own
        // fsync of those proposals (logProposals), so the learners' fsyncs overlap ours.
        flushAll(&loop)
    }

    /// Writes every learner's queued packets (as much as its socket takes; the rest when it is writable),
    /// then applies here what they committed.
    private func flushAll(_ loop: inout Loop) {
        for (handle, connection) in loop.connections where connection.written < connection.output.count {
            do { try flush(connection) } catch { close(handle, "\(error)", &loop) }
        }
        applyCommitted(&loop)
    }

    /// The client side learns of each commit (and of the syncs they complete) in order and applies it (the
    /// role applies it itself only while it holds the database: before serving, or with no client side),
    /// and our own writes' callers get their results.
    private func applyCommitted(_ loop: inout Loop) {
        guard !loop.unapplied.isEmpty else { return }
        let completions = loop.unapplied
        loop.unapplied = []
        for completion in completions {
            switch completion {
            case let .commit(txn):
                settings.clientSide?.committed(txn)
                shared.withLock { shared in
                    _ = shared.database?.replay(txn)
                    if let database = shared.database { storage?.committed(database) }
                }
                if let (continuation, result) = loop.waiting.removeValue(forKey: txn.zxid) { continuation.resume(returning: result) }
            case .syncCompleted:
                settings.clientSide?.syncCompleted()
            }
        }
    }

    private func close(_ handle: Int, _ reason: String, _ loop: inout Loop) {
        guard let connection = loop.connections.removeValue(forKey: handle) else { return }
        let sid = loop.machine.learnerID(handle).map(String.init) ?? "(unidentified)"
        settings.log.info("leader \(settings.myID): learner \(sid) dropped: \(reason)")
        connection.socket.close()
        loop.machine.disconnected(handle)
    }

    private func flush(_ connection: Connection) throws {
        while connection.written < connection.output.count {
            let count = try connection.socket.write(connection.output, from: connection.written)
            if count == 0 { return }
            connection.written += count
        }
        connection.output.removeAll(keepingCapacity: true)
        connection.written = 0
    }

    private func enqueue(_ bytes: [UInt8], to handle: Int, _ loop: inout Loop) {
        guard let connection = loop.connections[handle] else { return }
        if connection.awaitingSnapshot {
            connection.deferred += bytes  // after the snapshot, which is still being encoded
            return
        }
        // Written by the next flushAll: everything a pass of the loop sends a learner leaves in one write
        // (one send per packet was a third of a busy leader's time).
        connection.output += bytes
    }

    /// Writes the proposals made since the last call with one fsync; then our own ACK counts for each (it
    /// counts only once the proposal is on our disk).
    private func logProposals(_ loop: inout Loop) throws {
        guard !loop.unlogged.isEmpty else { return }
        let batch = loop.unlogged
        loop.unlogged = []
        try durably { try storage?.append(batch) }
        for txn in batch { try perform(loop.machine.logged(txn.zxid, now: .now), &loop) }
    }

    // MARK: Snapshots

    /// Encodes the committed database for a learner on another thread (a large tree takes long enough to
    /// starve every other learner of PINGs and COMMITs if done here); the packets that follow it wait.
    /// The copy is taken now, so the snapshot is at the zxid the sync plan chose.
    private func sendSnapshot(to handle: Int, _ loop: inout Loop) {
        guard let connection = loop.connections[handle] else { return }
        applyCommitted(&loop)  // the snapshot must hold everything committed so far
        connection.awaitingSnapshot = true
        let encode: @Sendable (ZooKeeperDatabase) -> Void = { [self] database in
            _ = post(.snapshotReady(handle: handle, bytes: SnapshotStream.encode(database)))
        }
        if let database = shared.withLock({ $0.database }) {
            Task.detached(priority: .utility) { encode(database) }
        } else {
            // Lent: after the commits just reported, so at the plan's zxid.
            settings.clientSide?.withCommittedDatabase(encode)
        }
    }

    /// Reads a learner's missing txns from our log files on another thread, as snapshots are encoded: the
    /// read may be large, and other learners must keep getting PINGs and COMMITs meanwhile. Nothing is sent
    /// to this learner until ``txnLogRead`` makes its plan.
    private func readTxnLog(for handle: Int, peerLastZxid: Int64, through: Int64) {
        let factor = settings.snapshotSizeFactor
        Task.detached(priority: .utility) { [self] in
            let read = storage?.txnLogForSync(peerLastZxid: peerLastZxid, through: through, snapshotSizeFactor: factor)
            _ = post(.txnLogRead(handle: handle, peerLastZxid: peerLastZxid, source: read?.source, lastSnapshotSize: read?.lastSnapshotSize ?? 0))
        }
    }

    private func txnLogRead(_ source: TxnLogSyncSource?, lastSnapshotSize: Int64, for handle: Int, peerLastZxid: Int64, _ loop: inout Loop) throws {
        let before = loop.machine.syncCounts.fromTxnLog
        try perform(loop.machine.txnLogRead(handle, peerLastZxid: peerLastZxid, source: source, lastSnapshotSize: lastSnapshotSize), &loop)
        let sid = loop.machine.learnerID(handle) ?? -1
        let how = loop.machine.syncCounts.fromTxnLog > before ? "from the txn log" : "without the txn log (a SNAP)"
        settings.log.info("leader \(settings.myID): synced learner \(sid) at \(Zxid.hex(peerLastZxid)) \(how)")
    }

    private func snapshotReady(_ bytes: [UInt8], for handle: Int, _ loop: inout Loop) {
        guard let connection = loop.connections[handle], connection.awaitingSnapshot else { return }
        connection.awaitingSnapshot = false
        let deferred = connection.deferred
        connection.deferred = []
        enqueue(bytes + deferred, to: handle, &loop)
    }

    // MARK: Writes

    private func submit(_ request: ClientRequest, _ continuation: CheckedContinuation<ProcessResult, any Error>, _ loop: inout Loop) throws {
        guard loop.machine.isEstablished else {
            continuation.resume(throwing: Exit(reason: "the leader is not established yet"))
            return
        }
        let zxid = loop.machine.nextZxid
        let result = loop.speculative.process(request, zxid: zxid, now: wallClockMilliseconds())
        guard let txn = result.txn else {
            continuation.resume(returning: result)  // A read: nothing to replicate.
            return
        }
        loop.waiting[zxid] = (continuation, result)
        try propose(txn, &loop)
    }

    /// A learner's forwarded request (`long sessionId, int cxid, int type` + the request body).
    private func forwarded(_ packet: QuorumPacket, from handle: Int, _ loop: inout Loop) throws {
        var reader = JuteReader(packet.data ?? [])
        guard let session = try? reader.readInt64(), let cxid = try? reader.readInt32(), let type = try? reader.readInt32() else {
            settings.log.warning("leader \(settings.myID): malformed REQUEST from learner \(loop.machine.learnerID(handle) ?? -1)")
            return
        }
        let request = ClientRequest(
            sessionId: session, cxid: cxid, opCode: OpCode(rawValue: type), body: reader.readRemaining(), authIds: packet.authinfo ?? [])
        try propose(request, from: handle, &loop)
    }

    /// A request forwarded by a learner or by this member's client side (`localHandle`).
    private func propose(_ request: ClientRequest, from handle: Int, _ loop: inout Loop) throws {
        let zxid = loop.machine.nextZxid
        let now = wallClockMilliseconds()
        let member = owner(handle, loop)
        let txn: LoggedTxn
        switch request.opCode {
        case .createSession:
            var timeoutReader = JuteReader(request.body)
            guard let timeout = try? timeoutReader.readInt32() else { return }
            txn = loop.speculative.createSession(sessionId: request.sessionId, timeout: timeout, zxid: zxid, now: now)
            loop.owners.created(request.sessionId, through: member)
        case .sync:
            loop.syncs.append((handle: handle, after: loop.machine.lastProposed))
            try answerSyncs(upTo: loop.machine.lastCommitted, &loop)
            return
        case .closeSession:
            // Not checked (Apache: expiry closes sessions without being their owner).
            guard let logged = loop.speculative.process(request, zxid: zxid, now: now).txn else { return }
            txn = logged
        default:
            // SESSIONMOVED where Apache's prep checks the session (a multi: its first op, the others
            // RUNTIMEINCONSISTENCY).
            let moved = loop.owners.isMoved(request.sessionId, writingThrough: member)
            guard let logged = loop.speculative.process(request, zxid: zxid, now: now, sessionMoved: moved).txn else { return }
            txn = logged
        }
        try propose(txn, &loop)
    }

    /// The sid of the member a request or REVALIDATE came through (ours for our own clients).
    private func owner(_ handle: Int, _ loop: Loop) -> Int64 {
        handle == Self.localHandle ? settings.myID : loop.machine.learnerID(handle) ?? -1
    }

    private func propose(_ txn: LoggedTxn, _ loop: inout Loop) throws {
        // The speculative tree has just applied `txn`: its digest is the TxnDigest Apache's prep attaches.
        var txn = txn.digest == nil ? txn.withDigest(loop.speculative.tree.txnDigest) : txn
        txn.digest?.treeDigest &+= settings.digestFault
        loop.proposed[txn.zxid] = txn
        try perform(loop.machine.propose(txn, now: .now), &loop)
    }

    /// Answers the syncs waiting for `committed` or less: called as each commit is performed, so a sync is
    /// answered after the COMMIT it waited for and before any later one (as Apache's `tryToCommit`).
    private func answerSyncs(upTo committed: Int64, _ loop: inout Loop) throws {
        let ready = loop.syncs.filter { $0.after <= committed }
        loop.syncs.removeAll { $0.after <= committed }
        for sync in ready {
            if sync.handle == Self.localHandle {
                loop.unapplied.append(.syncCompleted)  // after the commits before it are applied here
            } else {
                try send(QuorumPacket(.sync, zxid: 0), to: sync.handle, &loop)
            }
        }
    }

    /// Sessions whose timeout passed with no sign of life: the leader proposes their closeSession (which
    /// deletes their ephemerals on every member), as Apache's `SessionTrackerImpl` does.
    private func expireSessions(_ loop: inout Loop) throws {
        guard loop.machine.isEstablished else { return }
        for session in loop.sessions.expired(now: loop.monotonicNow) {
            settings.metrics.record { $0.staleSessionsExpired += 1 }
            settings.log.info("leader \(settings.myID): expiring session 0x\(String(session, radix: 16))")
            let result = loop.speculative.closeSession(sessionId: session, zxid: loop.machine.nextZxid, now: wallClockMilliseconds())
            if let txn = result.txn { try propose(txn, &loop) }
        }
    }

    /// A PING reply's touch table: `long sessionId, int timeout` pairs (`LearnerHandler`'s PING case).
    private func touch(_ table: [UInt8], _ loop: inout Loop) {
        var reader = JuteReader(table)
        let now = loop.monotonicNow
        while reader.remaining >= 12, let session = try? reader.readInt64(), (try? reader.readInt32()) != nil {
            loop.sessions.touch(session, now: now)
        }
    }


    // MARK: Actions

    /// A disk that fails ends leadership (whatever packet led to the write): nothing may be acknowledged
    /// that is not durable.
    private func durably(_ write: () throws -> Void) throws {
        do {
            try write()
        } catch {
            throw LeadershipLost(reason: "the disk failed: \(error)")
        }
    }

    private func send(_ packet: QuorumPacket, to handle: Int, _ loop: inout Loop) throws {
        var writer = JuteWriter()
        writer.write(packet)
        enqueue(writer.bytes, to: handle, &loop)
    }

    private func perform(_ actions: [Machine.Action], _ loop: inout Loop) throws {
        for action in actions {
            switch action {
            case let .send(handle, packet):
                try send(packet, to: handle, &loop)
            case let .sendSnapshot(handle):
                sendSnapshot(to: handle, &loop)
            case let .readTxnLog(handle, peerLastZxid, through):
                readTxnLog(for: handle, peerLastZxid: peerLastZxid, through: through)
            case let .close(handle, reason):
                close(handle, reason, &loop)
            case let .persistAcceptedEpoch(epoch):
                try durably { try shared.withLock { shared throws(PersistenceError) in try shared.epochs.setAcceptedEpoch(epoch) } }
            case let .persistCurrentEpoch(epoch):
                try durably { try shared.withLock { shared throws(PersistenceError) in try shared.epochs.setCurrentEpoch(epoch) } }
            case let .established(epoch):
                settings.log.info("leader \(settings.myID): leading epoch \(epoch)")
                loop.establishedAt = .now
                applyCommitted(&loop)
                if let clientSide = settings.clientSide {
                    if let database = shared.withLock({ $0.database.take() }) {
                        clientSide.startServing(database: database, storage: storage, state: .leading, epoch: epoch)
                    }
                }
                settings.onServing?(epoch)
            case let .log(txn):
                loop.unlogged.append(txn)  // see logProposals
            case let .commit(zxid):
                guard let txn = loop.proposed.removeValue(forKey: zxid) else { continue }
                loop.unapplied.append(.commit(txn))  // see applyCommitted
                switch txn.body {
                case let .createSession(body): loop.sessions.add(id: txn.header.clientId, timeout: body.timeOut, now: loop.monotonicNow)
                case .closeSession:
                    loop.sessions.remove(txn.header.clientId)
                    loop.owners.closed(txn.header.clientId)
                default: loop.sessions.touch(txn.header.clientId, now: loop.monotonicNow)
                }
                try answerSyncs(upTo: zxid, &loop)
            case let .request(handle, _, packet):
                try forwarded(packet, from: handle, &loop)
            case let .touch(_, table):
                touch(table, &loop)
            case let .revalidate(handle, session, _):
                settings.metrics.record { $0.revalidateCount += 1 }
                // A session moving to another member: alive if we track it (and that counts as a touch).
                let valid = loop.sessions.touch(session, now: loop.monotonicNow)
                if valid, loop.owners.revalidated(session, at: owner(handle, loop)) {
                    settings.clientSide?.sessionMovedAway(session)  // our own client's reads are refused from now on
                }
                var data = JuteWriter()
                data.write(session)
                data.write(valid)
                try send(QuorumPacket(.revalidate, zxid: -1, data: data.bytes), to: handle, &loop)
            case let .fail(reason):
                throw LeadershipLost(reason: reason)
            }
        }
    }
}
