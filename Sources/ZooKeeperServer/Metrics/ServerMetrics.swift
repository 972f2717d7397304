import Synchronization

/// The part of Apache's `ServerMetrics` we measure. Like Apache's, it belongs to the server process, not
/// to a role: counts go on across elections and leader/follower changes, and only `srst` resets them
/// (`ServerStats.reset` → `ServerMetrics.resetAll`). The threads that own the events record them; those
/// with per-packet events (leader, follower) count locally and record once per loop turn.
final class ServerMetrics: Sendable {
    struct Values: Sendable {
        /// Proposals this server sent as leader (`Leader.propose`).
        var proposalCount: Int64 = 0
        /// Times this peer started looking for a leader.
        var lookingCount: Int64 = 0
        /// PROPOSALs and COMMITs received as a learner in broadcast.
        var learnerProposalReceivedCount: Int64 = 0
        var learnerCommitReceivedCount: Int64 = 0
        /// Learner syncs this server led: DIFF or TRUNC (Apache counts both as diff), and SNAP.
        var diffCount: Int64 = 0
        var snapCount: Int64 = 0
        /// COMMITs this server sent as leader (`Leader.commit`).
        var commitCount: Int64 = 0
        /// ConnectRequests read, new sessions and resumed ones, refused ones included
        /// (`ZooKeeperServer.processConnectRequest`).
        var connectionRequestCount: Int64 = 0
        /// ConnectRequests resuming a session (`CONNECTION_REVALIDATE_COUNT`, after `reopenSession`).
        var connectionRevalidateCount: Int64 = 0
        /// REVALIDATEs learners sent this server as leader (`LearnerHandler`).
        var revalidateCount: Int64 = 0
        /// Sessions this server expired for want of a sign of life (standalone, or as leader).
        var staleSessionsExpired: Int64 = 0

        /// Looking until broadcast, as leader only (ms).
        var leaderUnavailableTime = MetricSummary("leader_unavailable_time")
        /// From connecting to the leader until synchronised (ms).
        var followerSyncTime = MetricSummary("follower_sync_time")
        /// The same for an observer (`Observer.observeLeader`).
        var observerSyncTime = MetricSummary("observer_sync_time")
        /// Each fdatasync of the txn log (ms; none with forceSync=no).
        var fsyncTime = MetricSummary("fsynctime")
        /// Writing one snapshot (ms).
        var snapshotTime = MetricSummary("snapshottime")
        /// Looking until broadcast, any role (ms).
        var unavailableTime = MetricSummary("unavailable_time")
        /// Loading the database from disk at startup (ms).
        var dbInitTime = MetricSummary("dbinittime")
        /// From starting to look until the elected role starts (ms).
        var electionTime = MetricSummary("election_time")
        /// Transactions made durable by one group commit.
        var syncProcessorBatchSize = MetricSummary("sync_processor_batch_size")
        /// From proposing until a quorum acknowledged (ms), leader.
        var quorumAckLatency = MetricSummary("quorum_ack_latency", percentiles: true)
        /// A client request's latency on this server, from arrival to reply (ms; `ServerStats.updateLatency`):
        /// requests that log a transaction (writes, closeSession), and the others (reads, pings, sync…).
        var updateLatency = MetricSummary("updatelatency", percentiles: true)
        var readLatency = MetricSummary("readlatency", percentiles: true)

        /// Counters as `/metrics` names them.
        var counters: [(name: String, value: Int64)] {
            [
                ("proposal_count", proposalCount), ("looking_count", lookingCount),
                ("learner_proposal_received_count", learnerProposalReceivedCount),
                ("learner_commit_received_count", learnerCommitReceivedCount),
                ("diff_count", diffCount), ("snap_count", snapCount), ("commit_count", commitCount),
                ("connection_request_count", connectionRequestCount), ("connection_revalidate_count", connectionRevalidateCount),
                ("revalidate_count", revalidateCount), ("stale_sessions_expired", staleSessionsExpired),
            ]
        }

        var summaries: [MetricSummary] {
            [
                leaderUnavailableTime, followerSyncTime, fsyncTime, snapshotTime, unavailableTime, dbInitTime,
                electionTime, syncProcessorBatchSize, observerSyncTime, quorumAckLatency, updateLatency, readLatency,
            ]
        }

        /// In `mntr`'s order: Apache's counters, then its summaries, the percentile ones last (as its
        /// `MetricsProvider` dumps them).
        var monitorValues: [(key: String, value: MonitorValue)] {
            var values: [(key: String, value: MonitorValue)] = counters.map { ($0.name, .int($0.value)) }
            for summary in summaries { values += summary.monitorValues }
            return values
        }
    }

    private let values = Mutex(Values())

    init() {}

    func record(_ body: (inout Values) -> Void) { values.withLock { body(&$0) } }

    var current: Values { values.withLock { $0 } }

    func reset() { values.withLock { $0 = Values() } }
}

