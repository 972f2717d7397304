import Foundation
import ZooKeeperPOSIX
import ZooKeeperProtocol

/// Everything the pipeline thread owns: the database, sessions, the log, per-connection facts, and the
/// replies held back until the current batch is durable.
///
/// It is the driver of the request processors (Apache's chain), each a pure state machine in `Processors/`:
/// - ``PrepProcessor`` routes a handshake or request from what the tables say (ping, auth, expired, apply,
///   the member's commit queue…);
/// - standalone, the database applies the request (prep and apply in one call) and its txn is appended to the
///   log; on a member, ``CommitQueue`` (Apache's CommitProcessor) orders it per session, forwards writes to
///   the leader and releases them as their commits come back;
/// - ``FinalProcessor`` turns the result into frames: the watches it fired (READ-checked), then its reply;
/// - ``SyncProcessor`` holds those frames until ``releaseBatch()`` has made the batch durable.
/// The driver does the I/O: tables, log, network, clocks.
final class PipelineState {
    let configuration: ServerConfiguration
    var database: ZooKeeperDatabase
    var sessions: SessionTracker
    let passwords: SessionPasswords
    let persistence: PersistenceDriver?
    var network: NetworkLoop?
    var connections: [UInt64: ConnectionInfo] = [:]
    var statistics = ServerStatistics()
    /// Apache's ServerMetrics: the process's, shared with the quorum roles and the disk.
    let metrics: ServerMetrics
    var faults = FaultState()
    /// The trace mask `stmk` sets and `gtmk` reports (no tracing is done with it).
    var traceMask: Int64 = 0
    /// Set on an ensemble member: writes and sessions go through the quorum (``PipelineState+Member``).
    var member: MemberContext?
    /// Rate-limits the log lines of digest mismatches (``PipelineState+Member``).
    var digestMismatchLog = DigestMismatchLog()
    let log: ServerLog
    let startedAt = ContinuousClock.now
    /// Replies and notifications of the current batch, released after the group commit.
    private(set) var sync = SyncProcessor()
    private var lastContainerCheck: Int64 = 0

    init(configuration: ServerConfiguration, database: ZooKeeperDatabase, sessions: SessionTracker,
         passwords: SessionPasswords, persistence: PersistenceDriver?, log: ServerLog, metrics: ServerMetrics = ServerMetrics()) {
        self.configuration = configuration
        self.metrics = metrics
        self.database = database
        self.sessions = sessions
        self.passwords = passwords
        self.persistence = persistence
        self.log = log
        faults.containerCheckInterval = configuration.containerCheckInterval
    }

    /// Monotonic milliseconds since start (session expiry).
    var monotonicNow: Int64 { startedAt.duration(to: .now).milliseconds }

    /// Wall-clock milliseconds since the epoch (ctime, mtime).
    var wallNow: Int64 { wallClockMilliseconds() }

    var nextZxid: Int64 { database.lastProcessedZxid + 1 }

    /// Commands of the current batch, not yet released.
    var held: [NetworkCommand] { sync.held }

    func send(_ connection: UInt64, _ bytes: [UInt8]) {
        sync.hold(.send(connection: connection, bytes: bytes))
        connections[connection]?.sent += 1
        statistics.packetsSent += 1
        statistics.responseSizes.record(Int64(bytes.count - 4))
    }

    func close(_ connection: UInt64) { sync.hold(.close(connection: connection)) }
    func abort(_ connection: UInt64) { sync.hold(.abort(connection: connection)) }

    /// A request of this batch arrived: its latency ends when the batch is released.
    func received(_ connection: UInt64, at instant: ContinuousClock.Instant, opCode: OpCode) {
        received(connection, at: instant, isUpdate: ZooKeeperDatabase.logsTxn(opCode))
    }

    /// `isUpdate`: the request logs a transaction (Apache's `updatelatency`; the others are `readlatency`).
    func received(_ connection: UInt64, at instant: ContinuousClock.Instant, isUpdate: Bool) {
        sync.received(connection: connection, at: instant, isUpdate: isUpdate)
    }

    /// Appends a transaction to the log (made durable by the batch's commit).
    func logTransaction(_ txn: LoggedTxn) {
        persistence?.append(txn)
    }

    /// Makes the batch durable, then lets its replies out. False if the log failed.
    func releaseBatch() -> Bool {
        if let persistence {
            do {
                try persistence.commit(database: database)
            } catch {
                log.error("transaction log failure, shutting down: \(error)")
                sync.discard()
                return false
            }
        }
        let release = sync.release(now: .now)
        if !release.latencies.isEmpty { record(release.latencies) }
        guard !release.commands.isEmpty else { return true }
        if let delay = faults.replyDelay {
            sync.delay(release.commands, until: monotonicNow + delay)
        } else {
            network?.submit(release.commands)
        }
        return true
    }

    private func record(_ latencies: [SyncProcessor.Latency]) {
        let stamp = wallNow
        metrics.record { metrics in  // once per batch: the process-wide metrics are behind a lock
            for latency in latencies {
                if latency.isUpdate {
                    metrics.updateLatency.add(latency.milliseconds)
                } else {
                    metrics.readLatency.add(latency.milliseconds)
                }
            }
        }
        for latency in latencies {
            let milliseconds = latency.milliseconds
            statistics.recordLatency(milliseconds)
            guard var info = connections[latency.connection] else { continue }
            info.lastLatency = milliseconds
            info.minLatency = min(info.minLatency, milliseconds)
            info.maxLatency = max(info.maxLatency, milliseconds)
            info.totalLatency += milliseconds
            info.latencyCount += 1
            info.lastResponseTime = stamp
            connections[latency.connection] = info
        }
    }

    /// Session expiry, container/TTL clean-up, delayed replies, end of a pause.
    func runTimers() {
        let now = monotonicNow
        if let until = faults.pausedUntil, now >= until {
            faults.pausedUntil = nil
            let deferred = faults.deferred
            faults.deferred = []
            for event in deferred { handle(event) }
        }
        // On an ensemble member the leader alone expires sessions (in its role) and deletes containers; a
        // read-only member expires its own local sessions.
        if isMember {
            if isReadOnly { expireReadOnlySessions(now: now) }
            if member?.serving?.state == .leading, now - lastContainerCheck >= Int64(faults.containerCheckInterval) {
                lastContainerCheck = now
                for path in database.expiredContainersAndTTLs(now: wallNow) {
                    _ = member?.link.forward(ZooKeeperDatabase.deleteContainerRequest(path: path))
                }
            }
        } else if faults.pausedUntil == nil {
            for id in sessions.expired(now: now) {
                metrics.record { $0.staleSessionsExpired += 1 }
                log.info("Expiring session 0x\(String(UInt64(bitPattern: id), radix: 16)), timeout exceeded")
                endSession(id, closingConnection: true)
            }
            if now - lastContainerCheck >= Int64(faults.containerCheckInterval) {
                lastContainerCheck = now
                for path in database.expiredContainersAndTTLs(now: wallNow) {
                    let result = database.process(ZooKeeperDatabase.deleteContainerRequest(path: path),
                                                  zxid: nextZxid, now: wallNow)
                    if let txn = result.txn { logTransaction(txn) }
                    deliver(result.notifications)
                }
            }
        }
        for batch in sync.due(now: now) { network?.submit(batch) }
    }

    func timeUntilNextTimer() -> Duration {
        let now = monotonicNow
        var next = now + Int64(min(configuration.tickTime, 1000))
        if !isMember || isReadOnly, let expiry = sessions.nextExpiry { next = min(next, expiry) }
        if let until = faults.pausedUntil { next = min(next, until) }
        if let due = sync.nextDue { next = min(next, due) }
        return .milliseconds(max(1, next - now))
    }

    /// Sends watch notifications to the sessions' current connections, where they may READ the node
    /// (``FinalProcessor/notifications(_:connectionOf:authIdsOf:)``).
    func deliver(_ notifications: [WatchNotification]) {
        send(FinalProcessor.notifications(notifications, connectionOf: connectionServing, authIdsOf: authIds))
    }

    func send(_ notifications: [FinalProcessor.Notification]) {
        for notification in notifications { send(notification.connection, notification.frame) }
    }

    /// The connection serving `session` here, if any.
    func connectionServing(_ session: Int64) -> UInt64? { sessions.sessions[session]?.connectionID }

    /// What `connection` is authenticated as (none once it is gone).
    func authIds(_ connection: UInt64) -> [Id] { connections[connection]?.authIds ?? [] }

    /// Closes a session: its ephemerals go (a closeSession txn), watchers are told, its connection closes.
    func endSession(_ id: Int64, closingConnection: Bool) {
        sessions.markClosing(id)
        let result = database.closeSession(sessionId: id, zxid: nextZxid, now: wallNow)
        if let txn = result.txn { logTransaction(txn) }
        deliver(result.notifications)
        if closingConnection, let connection = sessions.sessions[id]?.connectionID { close(connection) }
        sessions.remove(id)
    }

    func shutdown() {
        persistence?.close()
    }
}

/// Fault-injection switches (embedded server only), all applied on the pipeline thread.
struct FaultState: Sendable {
    var pausedUntil: Int64?
    var deferred: [NetworkEvent] = []
    /// Every released batch is held back this long, in ms (``SyncProcessor/delay(_:until:)``).
    var replyDelay: Int64?
    /// Apply the next matching request, then drop its reply and the connection.
    var loseNextReply: (@Sendable (OpCode, String?) -> Bool)?
    /// Answer matching requests with this error, unapplied (nil from the closure: serve normally).
    var refuse: (@Sendable (OpCode, String?) -> ZooKeeperErrorCode?)?
    /// Sessions whose connections are refused (a partition as that client sees it).
    var partitioned: Set<Int64> = []
    /// How often containers and TTL nodes are checked, in ms (Apache: 60 s).
    var containerCheckInterval: Int = 60_000
}
