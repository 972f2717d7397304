import Testing
import ZooKeeperClient
import ZooKeeperHTTP
import ZooKeeperServer
import ZooKeeperTestSupport

/// The HTTP admin server and the Prometheus endpoint of our server (the embedded one, admin on a free port).
@Suite("Admin server (embedded)", .serialized)
struct AdminServerTests {
    static var configuration: ServerConfiguration {
        var configuration = EmbeddedServer.defaultConfiguration
        configuration.admin.enabled = true
        configuration.admin.port = 0
        configuration.metricsProvider.prometheusEnabled = true
        configuration.metricsProvider.port = 0
        // As zk-server sets it from its zoo.cfg (Apache answers the file's text).
        configuration.initialConfiguration = "tickTime=2000\nadmin.enableServer=true\n"
        return configuration
    }

    static func command(_ port: Int, _ name: String) throws -> JSONValue {
        let answer = try httpGet(port: port, path: "/commands/\(name)")
        #expect(answer.status == 200, "\(name)")
        #expect(answer.headers.contains { $0.lowercased() == "content-type: application/json" })
        return try JSONValue(parsing: answer.body)
    }

    @Test func answersCommandsFromThePipelineState() async throws {
        try await withEmbeddedServer(configuration: Self.configuration) { server in
            let port = try #require(server.adminPort)
            try await withZooKeeperClient(.init(connectionString: server.connectString)) { client in
                try await client.create("/app", data: Array("x".utf8))
                try await client.create("/app/e", mode: .ephemeral)
                _ = try await client.getDataWatching("/app")
                let sessionID = try #require(client.session?.id)

                let list = try httpGet(port: port, path: "/commands")
                #expect(list.status == 200)
                #expect(list.body.contains("<a href=\"/commands/monitor\">monitor</a>"))

                #expect(try Self.command(port, "ruok") == .object([("command", .string("ruok")), ("error", .null)]))
                let stat = try Self.command(port, "stat")
                #expect(stat["command"] == .string("stats"))
                #expect(stat["server_stats"]?["server_state"] == .string("standalone"))
                #expect(stat["node_count"] == .int(7), "/, /zookeeper, its quota and config nodes, /app, /app/e")
                #expect(stat["connections"].map { if case let .array(items) = $0 { items.count } else { -1 } } == 1)

                let monitor = try Self.command(port, "mntr")
                #expect(monitor["znode_count"] == .int(7))
                #expect(monitor["ephemerals_count"] == .int(1))
                #expect(monitor["avg_latency"]?.kind == "double")

                let dump = try Self.command(port, "dump")
                #expect(dump["session_id_to_ephemeral_paths"] == .object([("\(sessionID)", .array([.string("/app/e")]))]))
                let watches = try Self.command(port, "watches_by_path")
                #expect(watches["path_to_session_ids"] == .object([("/app", .array([.int(sessionID)]))]))
                #expect(try Self.command(port, "watch_summary")["num_total_watches"] == .int(1))
                #expect(try Self.command(port, "configuration")["client_port"] == .int(Int64(server.port)))
                #expect(try Self.command(port, "leader")["error"] == .string("server is not initialized"))
                #expect(try Self.command(port, "voting_view")["current_config"] == .object([]))
                #expect(try Self.command(port, "is_read_only")["read_only"] == .bool(false))
                #expect(try Self.command(port, "icfg")["initial_configuration"] == .string("tickTime=2000\nadmin.enableServer=true\n"))

                #expect(try Self.command(port, "set_trace_mask?traceMask=42")["tracemask"] == .int(42))
                #expect(try Self.command(port, "gtmk")["tracemask"] == .int(42))
                #expect(try Self.command(port, "nope") == .object([("command", .string("nope")), ("error", .string("Unknown command: nope"))]))
            }
        }
    }

    @Test func refusesWhatIsNotACommand() async throws {
        try await withEmbeddedServer(configuration: Self.configuration) { server in
            let port = try #require(server.adminPort)
            #expect(try httpGet(port: port, path: "/").status == 404)
            #expect(try httpGet(port: port, path: "/commands/ruok/more").status == 404)
            #expect(try httpGet(port: port, path: "/commands/../../etc/passwd").status == 400)
            #expect(try httpGet(port: port, path: "/%2e%2e/etc/passwd").status == 400)
        }
    }

    @Test func exportsPrometheusGaugesWithApacheNames() async throws {
        try await withEmbeddedServer(configuration: Self.configuration) { server in
            let port = try #require(server.metricsPort)
            let metrics = try httpGet(port: port, path: "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.headers.contains { $0.hasPrefix("Content-Type: text/plain; version=0.0.4") })
            let lines = metrics.body.split(separator: "\n").map(String.init)
            #expect(lines.contains("# TYPE znode_count gauge"))
            #expect(lines.contains("znode_count 5.0"))
            for name in ["avg_latency", "packets_received", "num_alive_connections", "global_sessions", "uptime",
                         "open_file_descriptor_count", "min_client_response_size"] {
                #expect(lines.contains { $0.hasPrefix(name + " ") }, "\(name)")
            }
            // ServerMetrics: counters, and summaries with simpleclient's quantile lines (NaN while empty).
            #expect(lines.contains("# TYPE commit_count counter") && lines.contains("commit_count 0.0"))
            #expect(lines.contains("# TYPE fsynctime summary") && lines.contains("fsynctime_count 0.0") && lines.contains("fsynctime_sum 0.0"))
            #expect(lines.contains("fsynctime{quantile=\"0.5\",} NaN"))
            #expect(lines.contains("quorum_ack_latency{quantile=\"0.99\",} NaN"))
            #expect(try httpGet(port: port, path: "/other").status == 404)
        }
    }

    @Test func isOffByDefaultAndParsedFromZooCfg() throws {
        #expect(!ServerConfiguration().admin.enabled)
        #expect(!ServerConfiguration().metricsProvider.prometheusEnabled)
        let parsed = try ZooCfgParser.parse("""
            dataDir=/tmp/x
            admin.enableServer=true
            admin.serverAddress=0.0.0.0
            admin.serverPort=9090
            admin.commandURL=/admin
            metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
            metricsProvider.httpPort=7001
            """)
        #expect(parsed.ignoredKeys.isEmpty)
        let admin = parsed.configuration.admin
        #expect(admin.enabled && admin.address == "0.0.0.0" && admin.port == 9090 && admin.commandURL == "/admin")
        #expect(parsed.configuration.metricsProvider.prometheusEnabled && parsed.configuration.metricsProvider.port == 7001)
        #expect(parsed.configuration.metricsProvider.host == "127.0.0.1")
        #expect(throws: ZooCfgParser.ParseError.self) { try ZooCfgParser.parse("metricsProvider.className=com.example.Nope") }
        #expect(throws: ZooCfgParser.ParseError.self) { try ZooCfgParser.parse("admin.commandURL=commands") }
    }
}
