import Synchronization
import ZooKeeperPOSIX
import ZooKeeperProtocol

/// Why a role (leading or following) ended, or why a request could not be served by it.
struct QuorumRoleExit: Error, Sendable, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// One member of an ensemble (Apache's `QuorumPeer.run`): LOOKING runs an election; the winner leads
/// (``LeaderDriver``), the others follow (``FollowerDriver``); whatever ends a role sends the peer back to
/// LOOKING with the history it holds. The elector runs all along, so LOOKING peers always get an answer.
///
/// The history survives role changes: proposals a follower logged and never saw committed are part of
/// what it offers in the next election and of what it leads with (they become committed in the new epoch
/// through NEWLEADER, as in Apache). With a ``QuorumStorage`` every proposal is on disk before it is
/// acknowledged and a restarted peer resumes from its snapshot and log; without one (tests) a restarted
/// peer begins empty and is synchronised by the leader.
final class QuorumPeer: Sendable {
    struct Settings: Sendable {
        var myID: Int64
        var configuration: QuorumConfiguration
        var tickTime: Duration
        var initLimit: Int
        var syncLimit: Int
        var log: ServerLog = .silent
        /// The member's client side (nil: a member without clients, as in the quorum-only tests).
        var clientSide: (any QuorumClientSide)? = nil
        /// The member's client activity, reported to the leader.
        var activity: SessionActivity? = nil
        /// `readonlymode.enabled`: serve read-only clients while looking for longer than the grace period.
        var readOnlyModeEnabled = false
        /// `zookeeper.snapshotSizeFactor` for the leader's syncs from its txn log.
        var snapshotSizeFactor = 0.33
        /// The leader's in-memory committed proposals (`zookeeper.commitLogCount`).
        var committedLogCount = 500
        /// The server's metrics (election and unavailable times, counts the roles record).
        var metrics = ServerMetrics()
    }

    /// What the peer is doing now.
    struct Role: Sendable, Equatable {
        var state: QuorumPeerState = .looking
        /// The leader's sid once elected.
        var leader: Int64?
        /// The epoch once synchronised (`-1` before).
        var epoch: Int64 = -1
        /// Serving: synchronised with a quorum in broadcast.
        var isServing = false
    }

    private enum Current {
        case none
        case leading(LeaderDriver)
        case following(FollowerDriver)
    }

    private struct State {
        var database: ZooKeeperDatabase
        var uncommitted: [LoggedTxn] = []
        var epochs: EpochFiles
        var current = Current.none
        var role = Role()
        var stopped = false
        var readOnlyGate: ReadOnlyModeGate<ContinuousClock.Instant>
        /// When the peer last started looking without serving since (Apache's `unavailableStartTime`).
        var unavailableSince: ContinuousClock.Instant?
    }

    let settings: Settings
    private let elector: LeaderElector
    private let quorumListener: Socket
    /// The member's disk (nil in memory); internal for tests' fault injection.
    let storage: QuorumStorage?
    private let state: Mutex<State>
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Takes over listening sockets for this member's election and quorum addresses.
    init(settings: Settings, electionListener: Socket, quorumListener: Socket, database: ZooKeeperDatabase, epochs: EpochFiles,
         storage: QuorumStorage? = nil) throws(SocketError) {
        self.settings = settings
        self.quorumListener = quorumListener
        self.storage = storage
        self.elector = try LeaderElector(
            settings: .init(myID: settings.myID, configuration: settings.configuration,
                            handshakeTimeout: settings.tickTime * settings.syncLimit, log: settings.log),
            listener: electionListener)
        self.state = Mutex(State(database: database, epochs: epochs,
                                 readOnlyGate: ReadOnlyModeGate(enabled: settings.readOnlyModeEnabled, tickTime: settings.tickTime)))
    }

    var role: Role { state.withLock { $0.role } }

    /// Reads the committed database of the current role (or the one held between roles); nil while the role
    /// lends it to the member's client side (a serving member's tree is read there).
    func withDatabase<T>(_ body: (ZooKeeperDatabase) -> T) -> T? {
        let current = state.withLock { $0.current }
        switch current {
        case let .leading(leader): return leader.withDatabase(body)
        case let .following(follower): return follower.withDatabase(body)
        case .none: return state.withLock { body($0.database) }
        }
    }

    /// Proposes a write if this peer leads; throws otherwise.
    func submit(_ request: ClientRequest) async throws -> ProcessResult {
        guard case let .leading(leader) = state.withLock({ $0.current }) else {
            throw QuorumRoleExit(reason: "not the leader")
        }
        return try await leader.submit(request)
    }

    /// Hands a client's write, `sync` or `createSession` to the current role. False when the member has no
    /// serving role: the caller drops the client.
    func forward(_ request: ClientRequest) -> Bool {
        switch state.withLock({ $0.current }) {
        case let .leading(leader): return leader.forward(request)
        case let .following(follower): return follower.forward(request)
        case .none: return false
        }
    }

    /// Asks the leader whether a session reconnecting here is alive; the answer reaches the client side.
    func revalidate(session: Int64, timeout: Int32) -> Bool {
        switch state.withLock({ $0.current }) {
        case let .leading(leader): return leader.revalidate(session: session, timeout: timeout)
        case let .following(follower): return follower.revalidate(session: session, timeout: timeout)
        case .none: return false
        }
    }

    /// The leader's view for `mntr`: learners connected and followers synchronised (nil unless leading).
    var leaderStatus: LeaderDriver.Status? {
        guard case let .leading(leader) = state.withLock({ $0.current }) else { return nil }
        return leader.status
    }

    func start() {
        elector.start()
        task.withLock { $0 = Task { [self] in await run() } }
    }

    /// Stops the role, the elector and the loop; closes the listeners.
    func stop() async {
        let current = state.withLock { state -> Current in
            state.stopped = true
            return state.current
        }
        switch current {
        case let .leading(leader): leader.stop()
        case let .following(follower): follower.stop()
        case .none: break
        }
        await elector.stop()
        await task.withLock { $0 }?.value
        quorumListener.close()
        storage?.close()
    }

    private func run() async {
        while !state.withLock({ $0.stopped }) {
            let (lastLogged, currentEpoch) = state.withLock {
                ($0.uncommitted.last?.zxid ?? $0.database.lastProcessedZxid, $0.epochs.currentEpoch)
            }
            let outcome: ElectionOutcome
            let lookingSince = ContinuousClock.now
            state.withLock {
                $0.role = Role()
                $0.readOnlyGate.lookingStarted(at: lookingSince)
                if $0.unavailableSince == nil { $0.unavailableSince = lookingSince }
            }
            settings.metrics.record { $0.lookingCount += 1 }
            let readOnlyTimer = startReadOnlyTimer()
            do {
                settings.log.debug("peer \(settings.myID): looking")
                outcome = try await elector.lookForLeader(lastLoggedZxid: lastLogged, currentEpoch: currentEpoch)
            } catch {
                await endReadOnly(readOnlyTimer)
                return  // Stopped.
            }
            await endReadOnly(readOnlyTimer)
            if outcome.state != .looking {
                // Leader.lead / Follower.followLeader: ELECTION_TIME, from looking to the role's start.
                let electionTime = lookingSince.duration(to: .now).milliseconds
                settings.metrics.record { $0.electionTime.add(electionTime) }
            }
            do {
                switch outcome.state {
                case .leading: try await lead()
                case .following, .observing: try await follow(outcome.vote.leader)
                case .looking: continue
                }
            } catch {
                settings.log.warning("peer \(settings.myID): \(error)")
            }
        }
    }

    private func lead() async throws {
        let leader = try state.withLock { state throws(SocketError) -> LeaderDriver in
            // Everything we logged is our history now: NEWLEADER commits it in the new epoch.
            for txn in state.uncommitted { _ = state.database.replay(txn) }
            state.uncommitted = []
            let leader = try LeaderDriver(
                settings: .init(myID: settings.myID, configuration: settings.configuration, tickTime: settings.tickTime,
                                initLimit: settings.initLimit, syncLimit: settings.syncLimit, log: settings.log,
                                onServing: { [self] in serving(epoch: $0) }, clientSide: settings.clientSide, activity: settings.activity,
                                snapshotSizeFactor: settings.snapshotSizeFactor, committedLogCount: settings.committedLogCount,
                                metrics: settings.metrics),
                listener: quorumListener, database: state.database, epochs: state.epochs, storage: storage)
            state.current = .leading(leader)
            state.role = Role(state: .leading, leader: settings.myID)
            return leader
        }
        let exit = await leader.run()
        let returned = await settings.clientSide?.stopServing()
        settings.log.info("peer \(settings.myID): stopped leading: \(exit.reason)")
        guard let (database, epochs) = leader.finalState(returned: returned) else { return lostDatabase() }
        dropUncommittedTail(after: database.lastProcessedZxid)
        state.withLock {
            $0.database = database
            $0.epochs = epochs
            $0.current = .none
        }
    }

    /// A leader that stops leading may have logged proposals it never committed (no quorum acknowledged them
    /// in time, so no client was answered for them). Our last zxid is our database's; the log must agree, or a
    /// later DIFF would be appended behind that stale tail (and a restart would replay it as history). Apache
    /// keeps the tail and lets the next leader TRUNC it; dropping it here ends the same: whoever holds those
    /// proposals (a follower that acknowledged them) decides their fate in the election, as in ZAB.
    private func dropUncommittedTail(after zxid: Int64) {
        guard let storage, storage.lastAppendedZxid > zxid else { return }
        do {
            _ = try storage.truncate(after: zxid)
            settings.log.info("peer \(settings.myID): dropped the proposals we logged but never committed, after \(Zxid.hex(zxid))")
        } catch {
            settings.log.error("peer \(settings.myID): cannot drop the uncommitted log tail after \(Zxid.hex(zxid)): \(error)")
        }
    }

    private func follow(_ leaderID: Int64) async throws {
        guard let server = settings.configuration.servers[leaderID] else { return }
        let follower = try state.withLock { state throws(SocketError) -> FollowerDriver in
            let follower = try FollowerDriver(
                settings: .init(myID: settings.myID, isObserver: !settings.configuration.isVoter(settings.myID), leader: server,
                                tickTime: settings.tickTime, initLimit: settings.initLimit,
                                syncLimit: settings.syncLimit, configString: settings.configuration.configString, log: settings.log,
                                onServing: { [self] in serving(epoch: $0) }, clientSide: settings.clientSide, activity: settings.activity,
                                metrics: settings.metrics),
                database: state.database, uncommitted: state.uncommitted, epochs: state.epochs, storage: storage)
            state.current = .following(follower)
            state.role = Role(state: follower.settings.isObserver ? .observing : .following, leader: leaderID)
            return follower
        }
        let exit = await follower.run()
        let returned = await settings.clientSide?.stopServing()
        settings.log.info("peer \(settings.myID): stopped following \(leaderID): \(exit.reason)")
        guard let (database, epochs) = follower.finalState(returned: returned) else { return lostDatabase() }
        let uncommitted = follower.uncommitted
        state.withLock {
            $0.database = database
            $0.uncommitted = uncommitted
            $0.epochs = epochs
            $0.current = .none
        }
    }

    /// The client side did not give back the database a role lent it (its pipeline was never bound): with no
    /// history this member must not vote, so it stops rather than join an election with an empty tree.
    private func lostDatabase() {
        settings.log.error("peer \(settings.myID): the client side kept the committed database; this member stops taking part")
        state.withLock {
            $0.stopped = true
            $0.current = .none
        }
    }

    /// Starts the read-only service once the gate's grace period has passed, if the peer still looks then.
    private func startReadOnlyTimer() -> Task<Void, Never>? {
        guard let deadline = state.withLock({ $0.readOnlyGate.deadline }) else { return nil }
        return Task { [self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            guard !Task.isCancelled else { return }
            let database: ZooKeeperDatabase? = state.withLock { (state: inout State) -> ZooKeeperDatabase? in
                guard !state.stopped, state.role.state == .looking, state.readOnlyGate.shouldStart(at: .now) else { return nil }
                return state.database
            }
            guard let database else { return }
            settings.log.info("peer \(settings.myID): no quorum for \(state.withLock { $0.readOnlyGate.grace }): serving read-only clients")
            settings.clientSide?.startReadOnly(database: database)
        }
    }

    /// The election ended: the timer goes (awaited, so a start it made is queued before the stop) and a
    /// running read-only service stops (Apache's `roZk.shutdown()`).
    private func endReadOnly(_ timer: Task<Void, Never>?) async {
        timer?.cancel()
        await timer?.value
        if state.withLock({ $0.readOnlyGate.lookingEnded() }) {
            settings.log.info("peer \(settings.myID): election ended: read-only service stops")
            settings.clientSide?.stopReadOnly()
        }
    }

    /// Publishes "serving in epoch e" and tells the elector, whose answers to late joiners must carry
    /// the new epoch (`updateElectionVote`).
    private func serving(epoch: Int64) {
        elector.updateElectionVote(peerEpoch: epoch)
        let (unavailableSince, leading) = state.withLock { state in
            state.role.epoch = epoch
            state.role.isServing = true
            defer { state.unavailableSince = nil }
            return (state.unavailableSince, state.role.state == .leading)
        }
        // QuorumPeer.setZabState(BROADCAST): UNAVAILABLE_TIME (and LEADER_UNAVAILABLE_TIME) since looking began.
        if let unavailableSince {
            let unavailable = unavailableSince.duration(to: .now).milliseconds
            settings.metrics.record {
                $0.unavailableTime.add(unavailable)
                if leading { $0.leaderUnavailableTime.add(unavailable) }
            }
        }
    }
}

extension QuorumPeer: QuorumRoleLink {
    var ensembleStatus: EnsembleStatus {
        var status = EnsembleStatus(quorumSize: settings.configuration.votingMembers.count)
        status.leaderID = role.leader
        if let leader = leaderStatus {
            status.learners = leader.learners
            status.syncedFollowers = leader.syncedFollowers
            status.proposalSizes = leader.proposalSizes
            status.leaderUptime = leader.establishedAt.map { $0.duration(to: .now).milliseconds }
        }
        return status
    }
}
