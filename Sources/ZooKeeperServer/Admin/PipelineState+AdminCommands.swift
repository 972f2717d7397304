import Foundation
import ZooKeeperHTTP
import ZooKeeperProtocol

/// The admin server's command answers, computed on the pipeline thread from the same state the
/// four-letter words print, with Apache 3.8's JSON field names, types and order.
extension PipelineState {
    /// Apache's `CommandResponse` as JSON: the command's fields, then `command`, then `error` (null when
    /// fine; a command reporting its own error, as `leader` does standalone, puts it first).
    func adminResponse(_ name: String, arguments: [String: String]) -> JSONValue {
        guard let command = AdminCommand.named(name) else {
            return .object([("command", .string(name)), ("error", .string("Unknown command: \(name)"))])
        }
        if command.needsServer, let member, member.serving == nil {
            return .object([("command", .string(name)),
                            ("error", .string("This ZooKeeper instance is not currently serving requests"))])
        }
        let fields = adminFields(command.primaryName, arguments: arguments)
        let tail: [(key: String, value: JSONValue)] = fields.contains { $0.key == "error" }
            ? [("command", .string(command.primaryName))]
            : [("command", .string(command.primaryName)), ("error", .null)]
        return .object(fields + tail)
    }

    private func adminFields(_ name: String, arguments: [String: String]) -> [(key: String, value: JSONValue)] {
        switch name {
        case "connection_stat_reset":
            for id in connections.keys { connections[id]?.resetCounters() }
            return []
        case "configuration": return configurationFields()
        case "connections": return [("connections", .array(connectionsJSON(brief: false))), ("secure_connections", .array([]))]
        case "hash": return [("digests", .array([]))]
        case "dirs":
            return [("datadir_size", .int(Int64(directorySize(configuration.dataDirectory)))),
                    ("logdir_size", .int(Int64(directorySize(configuration.dataLogDirectory ?? configuration.dataDirectory))))]
        case "dump": return dumpFields()
        case "environment": return environmentFacts().map { ($0.key, .string($0.value)) }
        case "get_trace_mask": return [("tracemask", .int(traceMask))]
        case "initial_configuration":
            return [("initial_configuration", configuration.initialConfiguration.map(JSONValue.string) ?? .null)]
        case "is_read_only": return [("read_only", .bool(isReadOnly))]
        case "last_snapshot": return lastSnapshotFields()
        case "leader": return leaderFields()
        case "monitor": return monitorValues().map { ($0.key, $0.value.json) }
        case "set_trace_mask":
            guard let text = arguments["traceMask"] else { return [("error", .string("setTraceMask requires long traceMask argument"))] }
            guard let mask = Int64(text) else {
                return [("error", .string("setTraceMask requires long traceMask argument, got \(text)"))]
            }
            traceMask = mask
            return [("tracemask", .int(mask))]
        case "server_stats": return serverStatsFields()
        case "stats":
            return serverStatsFields() + [("connections", .array(connectionsJSON(brief: true))), ("secure_connections", .array([]))]
        case "stat_reset":
            statistics.reset()
            metrics.reset()  // ServerStats.reset → ServerMetrics.resetAll
            return []
        case "observers": return [("synced_observers", .int(0)), ("observers", .array([]))]
        case "system_properties": return systemProperties().map { ($0.key, .string($0.value)) }
        case "voting_view": return [("current_config", votingView())]
        case "watches":
            let table = database.dataWatchesBySession.sorted { $0.key < $1.key }
            return [("session_id_to_watched_paths", .object(table.map { ("\($0.key)", .array($0.value.map(JSONValue.string))) }))]
        case "watches_by_path":
            let table = database.dataWatchesByPath.sorted { $0.key < $1.key }
            return [("path_to_session_ids", .object(table.map { ($0.key, .array($0.value.map(JSONValue.int))) }))]
        case "watch_summary":
            let bySession = database.dataWatchesBySession
            return [("num_connections", .int(Int64(bySession.count))),
                    ("num_paths", .int(Int64(database.dataWatchesByPath.count))),
                    ("num_total_watches", .int(Int64(bySession.values.reduce(0) { $0 + $1.count })))]
        case "zabstate": return zabStateFields()
        default: return []  // ruok, observer_connection_stat_reset
        }
    }

    /// `ZooKeeperServerConf.toMap()`.
    private func configurationFields() -> [(key: String, value: JSONValue)] {
        let dataDir = (configuration.dataDirectory ?? "") + "/version-2"
        let logDir = (configuration.dataLogDirectory ?? configuration.dataDirectory ?? "") + "/version-2"
        return [
            ("client_port", .int(Int64(network?.port ?? configuration.clientPort))),
            ("data_dir", .string(dataDir)),
            ("data_log_dir", .string(logDir)),
            ("tick_time", .int(Int64(configuration.tickTime))),
            ("max_client_cnxns", .int(Int64(configuration.maxClientConnections))),
            ("min_session_timeout", .int(Int64(configuration.effectiveMinSessionTimeout))),
            ("max_session_timeout", .int(Int64(configuration.effectiveMaxSessionTimeout))),
            ("server_id", .int(configuration.serverID ?? 0)),
            ("client_port_listen_backlog", .int(-1)),
        ]
    }

    /// `ServerCnxn.getConnectionInfo(brief)`, one object per connection in the order they were accepted.
    private func connectionsJSON(brief: Bool) -> [JSONValue] {
        connections.values.sorted { $0.id < $1.id }.map { (info: ConnectionInfo) -> JSONValue in
            var fields: [(key: String, value: JSONValue)] = [
                ("remote_socket_address", .string(info.remote)),
                ("interest_ops", .int(info.sessionID == nil ? 0 : 1)),
                ("outstanding_requests", .int(0)),
                ("packets_received", .int(info.received)),
                ("packets_sent", .int(info.sent)),
            ]
            guard !brief else { return .object(fields) }
            let timeout = info.sessionID.flatMap { sessions.sessions[$0]?.timeout } ?? 0
            let average = info.latencyCount == 0 ? 0 : info.totalLatency / info.latencyCount
            fields += [
                ("session_id", .int(info.sessionID ?? 0)),
                ("last_operation", .string(info.lastOperation)),
                ("established", .int(info.established)),
                ("session_timeout", .int(Int64(timeout))),
                ("last_cxid", .int(Int64(info.lastCxid))),
                ("last_zxid", .int(info.lastZxid)),
                ("last_response_time", .int(info.lastResponseTime)),
                ("last_latency", .int(info.lastLatency)),
                ("min_latency", .int(info.latencyCount == 0 ? 0 : info.minLatency)),
                ("avg_latency", .int(average)),
                ("max_latency", .int(info.maxLatency)),
            ]
            return .object(fields)
        }
    }

    /// Session expiry buckets (by the tracker's clock, as Apache's elapsed-time keys) and ephemerals.
    private func dumpFields() -> [(key: String, value: JSONValue)] {
        let expiry = sessions.byExpiry.map { (bucket: (time: Int64, sessions: [Int64])) -> (key: String, value: JSONValue) in
            ("\(bucket.time)", .array(bucket.sessions.map(JSONValue.int)))
        }
        let ephemerals = database.ephemeralsBySession.sorted { $0.key < $1.key }.map { (entry: (key: Int64, value: [String])) -> (key: String, value: JSONValue) in
            ("\(entry.key)", .array(entry.value.map(JSONValue.string)))
        }
        return [("expiry_time_to_session_ids", .object(expiry)), ("session_id_to_ephemeral_paths", .object(ephemerals))]
    }

    /// `srvr`/`stats`: the version, `ServerStats` as Jackson serialises it, and the node count.
    private func serverStatsFields() -> [(key: String, value: JSONValue)] {
        let responseStats = statistics.responseSizes.json
        let stats = JSONValue.object([
            ("packets_sent", .int(statistics.packetsSent)),
            ("packets_received", .int(statistics.packetsReceived)),
            ("fsync_threshold_exceed_count", .int(0)),
            ("client_response_stats", responseStats),
            ("data_dir_size", .int(Int64(directorySize(configuration.dataDirectory)))),
            ("log_dir_size", .int(Int64(directorySize(configuration.dataLogDirectory ?? configuration.dataDirectory)))),
            ("provider_null", .bool(false)),
            ("server_state", .string(member?.mode ?? "standalone")),
            ("last_processed_zxid", .int(database.lastProcessedZxid)),
            ("outstanding_requests", .int(0)),
            ("avg_latency", .double((statistics.averageLatency * 10_000).rounded() / 10_000)),
            ("max_latency", .int(statistics.maxLatency)),
            ("min_latency", .int(statistics.minLatencyForDisplay)),
            ("num_alive_client_connections", .int(Int64(connections.count))),
            ("uptime", .int(monotonicNow)),
            ("auth_failed_count", .int(0)),
            ("non_mtlsremote_conn_count", .int(0)),
            ("non_mtlslocal_conn_count", .int(0)),
        ])
        let proposals = leaderProposalSizes.map { [(key: "proposal_stats", value: $0.json)] } ?? []
        return [
            ("version", .string(Self.versionLine)),
            ("read_only", .bool(isReadOnly)),
            ("server_stats", stats),
            ("client_response", responseStats),
        ] + proposals + [
            ("node_count", .int(Int64(database.nodeCount))),
        ]
    }

    /// The newest `snapshot.<zxid>` in the data directory: its zxid in hex (Java's `Long.toHexString`)
    /// and modification time in seconds; `ffffffffffffffff` and -1 when there is none.
    private func lastSnapshotFields() -> [(key: String, value: JSONValue)] {
        let directory = (configuration.dataDirectory ?? "") + "/version-2"
        let names = configuration.dataDirectory == nil ? [] : ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        let snapshots = names.compactMap { (name: String) -> (zxid: Int64, name: String)? in
            guard name.hasPrefix("snapshot."), let zxid = UInt64(name.dropFirst("snapshot.".count), radix: 16) else { return nil }
            return (Int64(bitPattern: zxid), name)
        }
        guard let newest = snapshots.max(by: { $0.zxid < $1.zxid }) else {
            return [("zxid", .string(ZooKeeperDatabase.hex(-1))), ("timestamp", .int(-1))]
        }
        let modified = (try? FileManager.default.attributesOfItem(atPath: directory + "/" + newest.name))?[.modificationDate] as? Date
        return [("zxid", .string(ZooKeeperDatabase.hex(newest.zxid))),
                ("timestamp", .int(Int64(modified?.timeIntervalSince1970 ?? -1)))]
    }

    /// Standalone, Apache answers "server is not initialized"; a member tells who leads.
    private func leaderFields() -> [(key: String, value: JSONValue)] {
        guard let member, let me = configuration.serverID else { return [("error", .string("server is not initialized"))] }
        let leading = member.serving?.state == .leading
        let leaderID = leading ? me : (member.link.ensembleStatus.leaderID ?? -1)
        let leaderHost = configuration.quorum?.servers[leaderID]?.host ?? ""
        return [("is_leader", .bool(leading)), ("leader_id", .int(leaderID)), ("leader_ip", .string(leaderHost))]
    }

    /// The voting members by id, as Apache's `QuorumServerView`; `{ }` standalone.
    private func votingView() -> JSONValue {
        guard isMember, let quorum = configuration.quorum else { return .object([]) }
        let voters = quorum.servers.values.filter { $0.type == .participant }.sorted { $0.id < $1.id }
        return .object(voters.map { (server: QuorumServer) -> (key: String, value: JSONValue) in
            // Apache fills in its own client address from its configuration (QuorumPeerConfig.setupClientPort).
            let client = server.id == configuration.serverID
                ? ownClientAddress : (server.clientPort.map { Self.address(server.clientHost ?? "0.0.0.0", $0) } ?? "")
            // Jackson's snake_case naming of QuorumServerView's fields.
            return ("\(server.id)", .object([
                ("server_addresses", .array([.string(Self.address(server.host, server.quorumPort))])),
                ("election_addresses", .array([.string(Self.address(server.host, server.electionPort))])),
                ("client_address", .string(client)),
                ("learner_type", .string(server.type.rawValue)),
            ]))
        })
    }

    private var ownClientAddress: String { Self.address(configuration.clientPortAddress, configuration.clientPort) }

    /// Apache's `MultipleAddresses` as Jackson serialises it (one address: every view is that address).
    private static func multipleAddresses(_ host: String, _ port: Int) -> JSONValue {
        let address = JSONValue.string(Self.address(host, port))
        return .object([
            ("empty", .bool(false)),
            ("all_reachable_addresses", .array([address])),
            ("all_addresses", .array([address])),
            ("one", address),
            ("reachable_address", address),
            ("wildcard_addresses", .array([.string(Self.address("0.0.0.0", port))])),
            ("all_ports", .array([.int(Int64(port))])),
            ("all_host_strings", .array([.string(host)])),
            ("all_reachable_addresses_or_all", .array([address])),
            ("reachable_or_one", address),
        ])
    }

    /// `host:port`, IPv6 hosts in brackets (`QuorumServer.delimitedHostString`).
    private static func address(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Standalone: not voting, no phase. A member: its id, role, addresses and last zxid.
    private func zabStateFields() -> [(key: String, value: JSONValue)] {
        guard let member, let me = configuration.serverID else { return [("voting", .bool(false)), ("zabstate", .string(""))] }
        let zxid = database.lastProcessedZxid
        let line = configuration.quorum?.servers[me]
        return [
            ("myid", .int(me)),
            ("is_leader", .bool(member.serving?.state == .leading)),
            ("quorum_address", line.map { Self.multipleAddresses($0.host, $0.quorumPort) } ?? .null),
            ("election_address", line.map { Self.multipleAddresses($0.host, $0.electionPort) } ?? .null),
            ("client_address", .string(ownClientAddress)),
            ("voting", .bool(line?.type == .participant)),
            ("last_zxid", .string("0x" + ZooKeeperDatabase.hex(zxid))),
            ("zab_epoch", .int(zxid >> 32)),
            ("zab_counter", .int(zxid & 0xFFFF_FFFF)),
            ("zabstate", .string(member.serving == nil ? "election" : "broadcast")),
        ]
    }

    /// What stands for Java's system properties: the standard keys a native process has, sorted.
    private func systemProperties() -> [(key: String, value: String)] {
        let system = Self.uname()
        let user = Self.userFacts()
        let properties: [String: String] = [
            "file.encoding": "UTF-8", "file.separator": "/", "line.separator": "\n", "native.encoding": "UTF-8",
            "os.arch": system.arch, "os.name": system.name, "os.version": system.release, "path.separator": ":",
            "user.dir": FileManager.default.currentDirectoryPath, "user.home": user.home, "user.name": user.name,
        ]
        return properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

extension BufferStats {
    /// As Jackson serialises Apache's `BufferStats`.
    var json: JSONValue {
        .object([("last_buffer_size", .int(last)), ("min_buffer_size", .int(min)), ("max_buffer_size", .int(max))])
    }
}

extension MonitorValue {
    var json: JSONValue {
        switch self {
        case let .int(value): return .int(value)
        case let .double(value): return .double(value)
        case let .string(value): return .string(value)
        }
    }
}
