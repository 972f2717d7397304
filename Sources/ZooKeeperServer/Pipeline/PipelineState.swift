import Foundation
import ZooKeeperPOSIX
import ZooKeeperProtocol

/// Everything the pipeline thread owns: the database, sessions, the log, per-connection facts, and the
/// replies held back until the current batch is durable.
final class PipelineState {
    let configuration: ServerConfiguration
    var database: ZooKeeperDatabase
    var sessions: SessionTracker
    let passwords: SessionPasswords
    let persistence: PersistenceDriver?
    var network: NetworkLoop?
    var connections: [UInt64: ConnectionInfo] = [:]
    var statistics = ServerStatistics()
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
    private(set) var held: [NetworkCommand] = []
    private var lastContainerCheck: Int64 = 0
    /// Requests of the current batch and when they arrived: their latency ends when the batch is released.
    var pendingLatencies: [(connection: UInt64, receivedAt: ContinuousClock.Instant)] = []

    init(configuration: ServerConfiguration, database: ZooKeeperDatabase, sessions: SessionTracker,
         passwords: SessionPasswords, persistence: PersistenceDriver?, log: ServerLog) {
        self.configuration = configuration
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

    func send(_ connection: UInt64, _ bytes: [UInt8]) {
        held.append(.send(connection: connection, bytes: bytes))
        connections[connection]?.sent += 1
        statistics.packetsSent += 1
        statistics.responseSizes.record(Int64(bytes.count - 4))
    }

    func close(_ connection: UInt64) { held.append(.close(connection: connection)) }
    func abort(_ connection: UInt64) { held.append(.abort(connection: connection)) }

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
                held = []
                return false
            }
        }
        if !pendingLatencies.isEmpty { recordLatencies() }
        guard !held.isEmpty else { return true }
        let batch = held
        held = []
        if let delay = faults.replyDelay {
            faults.delayed.append((monotonicNow + delay, batch))
        } else {
            network?.submit(batch)
        }
        return true
    }

    private func recordLatencies() {
        let now = ContinuousClock.now
        let stamp = wallNow
        for (connection, receivedAt) in pendingLatencies {
            let milliseconds = receivedAt.duration(to: now).milliseconds
            statistics.recordLatency(milliseconds)
            guard var info = connections[connection] else { continue }
            info.lastLatency = milliseconds
            info.minLatency = min(info.minLatency, milliseconds)
            info.maxLatency = max(info.maxLatency, milliseconds)
            info.totalLatency += milliseconds
            info.latencyCount += 1
            info.lastResponseTime = stamp
            connections[connection] = info
        }
        pendingLatencies = []
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
        if !faults.delayed.isEmpty {
            let due = faults.delayed.filter { $0.at <= now }
            faults.delayed.removeAll { $0.at <= now }
            for (_, batch) in due { network?.submit(batch) }
        }
    }

    func timeUntilNextTimer() -> Duration {
        let now = monotonicNow
        var next = now + Int64(min(configuration.tickTime, 1000))
        if !isMember || isReadOnly, let expiry = sessions.nextExpiry { next = min(next, expiry) }
        if let until = faults.pausedUntil { next = min(next, until) }
        if let delayed = faults.delayed.map(\.at).min() { next = min(next, delayed) }
        return .milliseconds(max(1, next - now))
    }

    /// Sends watch notifications to the sessions' current connections (3.8 sends zxid -1), but only
    /// where the connection may READ the node (3.8.4, CVE-2024-23944).
    func deliver(_ notifications: [WatchNotification]) {
        for notification in notifications {
            guard let connection = sessions.sessions[notification.sessionId]?.connectionID else { continue }
            if let acl = notification.acl,
                !ACLPolicy.check(acl, perm: .read, ids: connections[connection]?.authIds ?? []) { continue }
            var writer = JuteWriter(capacity: 64)
            writer.write(ReplyHeader(xid: ReservedXid.notification, zxid: -1, err: 0))
            writer.write(notification.event)
            send(connection, Frame.encode(writer.bytes))
        }
    }

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
    var replyDelay: Int64?
    var delayed: [(at: Int64, batch: [NetworkCommand])] = []
    /// Apply the next matching request, then drop its reply and the connection.
    var loseNextReply: (@Sendable (OpCode, String?) -> Bool)?
    /// Sessions whose connections are refused (a partition as that client sees it).
    var partitioned: Set<Int64> = []
    /// How often containers and TTL nodes are checked, in ms (Apache: 60 s).
    var containerCheckInterval: Int = 60_000
}
