import Testing
import ZooKeeperClient
import ZooKeeperHTTP
import ZooKeeperServer
import ZooKeeperTestSupport

/// Our admin server against Apache 3.8's Jetty admin server, the same state on both (a session holding an
/// ephemeral node and watches): every command's JSON must have Apache's field names and value types.
/// Values differ (ids, times, sizes); names and types must not.
@Suite("Admin server: Shepherd vs Apache ZooKeeper 3.8", .serialized,
       .enabled(if: ApacheZooKeeper.isAdminServerInstalled,
                "needs Apache ZooKeeper 3.8 and its admin server's jars (libjetty9-java, libjackson2-databind-java)"))
struct AdminDifferentialTests {
    /// Commands whose fields are Apache's exactly.
    static let exact = [
        "ruok", "stats", "stat", "server_stats", "srvr", "configuration", "connections", "connection_stat_reset", "dump",
        "watches", "watches_by_path", "watch_summary", "initial_configuration", "is_read_only", "last_snapshot", "leader", "voting_view", "dirs",
        "get_trace_mask", "hash", "observers", "stat_reset", "zabstate", "observer_connection_stat_reset", "no_such_command",
    ]
    /// Commands where we answer a subset of Apache's fields: `monitor` (Apache adds ~480 metrics of its
    /// metrics provider), `environment` and `system_properties` (no `java.*` in a native process).
    static let subset = ["monitor", "environment", "system_properties"]
    /// Objects keyed by data (session ids, paths, times, server ids): entry counts and value shapes compare, not keys.
    static let dataKeyed: Set<String> = [
        "session_id_to_ephemeral_paths", "session_id_to_watched_paths", "path_to_session_ids", "current_config",
    ]
    /// Expiry buckets: how many there are depends on when each session was last heard from (and Apache keeps
    /// emptied buckets until its expirer passes), so under load Apache showed 2–3 where we had 1.
    static let timeKeyed: Set<String> = ["expiry_time_to_session_ids"]

    @Test(.timeLimit(.minutes(3)))
    func fieldNamesAndTypesMatchApache() async throws {
        let apache = try await TestServerFixture.privateApacheServer(.init(extraConfig: ["forceSync=no"], adminServer: true))
        defer { apache.cleanup() }
        let apachePort = try #require(apache.adminPort)
        try await withEmbeddedServer(configuration: AdminServerTests.configuration) { ours in
            let ourPort = try #require(ours.adminPort)
            try await withZooKeeperClient(.init(connectionString: apache.connectString)) { apacheClient in
                try await withZooKeeperClient(.init(connectionString: ours.connectString)) { ourClient in
                    for client in [apacheClient, ourClient] { try await Self.makeState(client) }
                    var differences: [String] = []
                    for name in Self.exact + Self.subset {
                        let theirs = try Self.answer(apachePort, name)
                        let mine = try Self.answer(ourPort, name)
                        differences += Self.compare(theirs, mine, at: name, subset: Self.subset.contains(name))
                    }
                    #expect(differences.isEmpty, Comment(rawValue: differences.joined(separator: "\n")))
                    // The reference is Apache's Jetty answering (its metrics provider adds hundreds of fields).
                    #expect(try Self.answer(apachePort, "monitor").keys.count > 100)
                    #expect(try Self.answer(apachePort, "stats")["connections"] != .array([]))
                }
            }
        }
    }

    @Test func comparisonSeesNameAndTypeDifferences() {
        #expect(compare(.object([("a", .int(1))]), .object([("a", .double(1))]), at: "t") == ["t.a: Apache's is int (1), ours double (1.0)"])
        #expect(compare(.object([("a", .int(1))]), .object([("b", .int(1))]), at: "t") == ["t: we lack a", "t: Apache has no b"])
        #expect(compare(.object([("a", .int(1))]), .object([]), at: "t", subset: true).isEmpty)
        #expect(compare(.array([.object([("x", .null)])]), .array([.object([("x", .string(""))])]), at: "t").count == 1)
    }

    /// A persistent node with data, an ephemeral child, a data watch on each, a child watch.
    static func makeState(_ client: ZooKeeperClient) async throws {
        try await client.create("/app", data: Array("x".utf8))
        try await client.create("/app/e", data: Array("y".utf8), mode: .ephemeral)
        _ = try await client.getDataWatching("/app")
        _ = try await client.existsWatching("/app/e")
        _ = try await client.getChildrenWatching("/app")
    }

    static func answer(_ port: Int, _ name: String) throws -> JSONValue {
        let answer = try httpGet(port: port, path: "/commands/\(name)")
        guard answer.status == 200 else { throw TestSupportError("\(name): HTTP \(answer.status) \(answer.body.prefix(200))") }
        return try JSONValue(parsing: answer.body)
    }

    /// Differences in names and kinds between Apache's answer and ours (empty when the shapes agree).
    private func compare(_ theirs: JSONValue, _ ours: JSONValue, at path: String, subset: Bool = false) -> [String] {
        Self.compare(theirs, ours, at: path, subset: subset)
    }

    static func compare(_ theirs: JSONValue, _ ours: JSONValue, at path: String, subset: Bool = false) -> [String] {
        JSONShape.differences(theirs, ours, at: path, subset: subset, dataKeyed: dataKeyed, timeKeyed: timeKeyed)
    }
}
