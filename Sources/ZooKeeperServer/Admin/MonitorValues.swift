/// One `mntr` value: Java's types, so the JSON (`monitor`) and Prometheus answers type them as Apache does.
enum MonitorValue: Sendable {
    case int(Int64)
    case double(Double)
    case string(String)

    /// As `mntr` prints it.
    var text: String {
        switch self {
        case let .int(value): return String(value)
        case let .double(value): return PipelineState.javaDouble(value, digits: 4)
        case let .string(value): return value
        }
    }
}

extension PipelineState {
    /// What `mntr`, the admin server's `monitor` and `/metrics` report, in `mntr`'s order, keys without
    /// the `zk_` prefix (Apache's `ZooKeeperServer.dumpMonitorValues` and the ensemble additions).
    func monitorValues() -> [(key: String, value: MonitorValue)] {
        var values: [(key: String, value: MonitorValue)] = [
            ("version", .string(Self.versionLine)),
            ("server_state", .string(member?.mode ?? "standalone")),
            ("ephemerals_count", .int(Int64(database.ephemeralCount))),
            ("num_alive_connections", .int(Int64(connections.count))),
            ("avg_latency", .double((statistics.averageLatency * 10_000).rounded() / 10_000)),
            ("outstanding_requests", .int(0)),
            ("znode_count", .int(Int64(database.nodeCount))),
            // Apache's gauge is `zkdb::getSessionCount`: every session the replicated database holds — on a
            // member, the whole ensemble's, not only those connected here (a read-only member's are local).
            ("global_sessions", .int(Int64(database.sessions.count))),
            ("local_sessions", .int(Int64(isReadOnly ? sessions.sessions.count : 0))),
            ("packets_sent", .int(statistics.packetsSent)),
            ("packets_received", .int(statistics.packetsReceived)),
            ("watch_count", .int(Int64(database.watchCount))),
            ("approximate_data_size", .int(Int64(database.approximateDataSize))),
            ("min_latency", .int(statistics.minLatencyForDisplay)),
            ("max_latency", .int(statistics.maxLatency)),
            ("uptime", .int(monotonicNow)),
            ("open_file_descriptor_count", .int(Int64(Self.openFileDescriptors()))),
            ("max_file_descriptor_count", .int(Int64(Self.maxFileDescriptors()))),
        ]
        let responses = statistics.responseSizes  // ServerStats.clientResponseStats: -1 before the first reply
        values += [
            ("last_client_response_size", .int(responses.last)),
            ("max_client_response_size", .int(responses.max)),
            ("min_client_response_size", .int(responses.min)),
        ]
        // ServerMetrics are the process's, whatever the role: Apache prints them after the server's keys.
        guard let member else { return values + metrics.current.monitorValues }
        if member.readOnly {
            // A ReadOnlyZooKeeperServer is a plain ZooKeeperServer to Apache: no quorum keys.
            values.append(("digest_mismatches_count", .int(database.tree.digestStatistics.mismatches)))
            return values + metrics.current.monitorValues
        }
        let status = member.link.ensembleStatus
        values += [
            ("peer_state", .string(member.peerState)),
            ("quorum_size", .int(Int64(status.quorumSize))),
            ("digest_mismatches_count", .int(database.tree.digestStatistics.mismatches)),
        ]
        if let learners = status.learners {
            values += [
                ("learners", .int(Int64(learners))),
                ("synced_followers", .int(Int64(status.syncedFollowers))),
                ("synced_non_voting_followers", .int(0)),
                ("synced_observers", .int(0)),
                ("pending_syncs", .int(Int64(status.pendingSyncs))),
            ]
        }
        // LeaderZooKeeperServer's gauges: proposal sizes (-1 before the first) and time since it started leading.
        if let sizes = status.proposalSizes {
            values += [
                ("last_proposal_size", .int(sizes.last)),
                ("min_proposal_size", .int(sizes.min)),
                ("max_proposal_size", .int(sizes.max)),
            ]
        }
        if let leaderUptime = status.leaderUptime {
            values.append(("leader_uptime", .int(leaderUptime)))
        }
        return values + metrics.current.monitorValues
    }

    /// ServerMetrics' counters and summaries in the Prometheus text format (Apache's provider registers them all).
    func prometheusMetrics() -> String {
        let values = metrics.current
        var text = ""
        for counter in values.counters { text += PrometheusText.renderCounter(name: counter.name, value: counter.value) }
        for summary in values.summaries { text += PrometheusText.renderSummary(summary) }
        return text
    }

    /// The gauges Apache's `ZooKeeperServer.registerMetrics` gives the Prometheus provider, those we compute.
    func prometheusGauges() -> [(name: String, value: Double)] {
        let monitor = Dictionary(monitorValues().map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        let fromMonitor = [
            "avg_latency", "max_latency", "min_latency", "packets_received", "packets_sent", "num_alive_connections",
            "outstanding_requests", "uptime", "znode_count", "watch_count", "ephemerals_count", "approximate_data_size",
            "global_sessions", "local_sessions", "open_file_descriptor_count", "max_file_descriptor_count",
        ]
        var gauges: [(name: String, value: Double)] = fromMonitor.compactMap { name -> (name: String, value: Double)? in
            switch monitor[name] {
            case let .int(value): return (name, Double(value))
            case let .double(value): return (name, value)
            default: return nil
            }
        }
        let responses = statistics.responseSizes
        gauges += [
            ("last_client_response_size", Double(responses.last)),
            ("max_client_response_size", Double(responses.max)),
            ("min_client_response_size", Double(responses.min)),
        ]
        return gauges
    }
}
