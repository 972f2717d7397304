import Testing
import ZooKeeperClient
import ZooKeeperServer
import ZooKeeperTestSupport

/// Apache's request metrics in `mntr` — `updatelatency` / `readlatency` (requests that log a transaction, and
/// the others), `connection_request_count`, `connection_revalidate_count`, `stale_sessions_expired` — counted
/// the same by our standalone server and Apache 3.8's for one sequence of requests on each.
@Suite(.serialized, .timeLimit(.minutes(2)),
       .enabled(if: ApacheZooKeeper.isInstalled, Comment(rawValue: ApacheZooKeeper.notInstalledMessage)))
struct RequestMetricsDifferentialTests {
    static let keys = ["zk_cnt_updatelatency", "zk_cnt_readlatency", "zk_connection_request_count",
                       "zk_connection_revalidate_count", "zk_stale_sessions_expired"]

    @Test func bothServersCountTheSameRequestsConnectsResumesAndExpiries() async throws {
        let apache = try await TestServerFixture.privateApacheServer(.init(minSessionTimeout: 500, extraConfig: ["forceSync=no"]))
        defer { apache.cleanup() }
        let theirs = try await Self.exercise(port: apache.port)
        var configuration = EmbeddedServer.defaultConfiguration
        configuration.minSessionTimeout = 500
        let ours = try await withEmbeddedServer(configuration: configuration, inMemory: true) { server in
            try await Self.exercise(port: server.port)
        }
        for key in Self.keys {
            #expect(ours[key] != nil && ours[key] == theirs[key], "\(key): ours \(ours[key] ?? "-"), Apache's \(theirs[key] ?? "-")")
        }
        #expect(theirs["zk_cnt_updatelatency"] == "10", "2 createSessions, 5 creates, a failed delete, setData, closeSession")
        for key in ["zk_p50_updatelatency", "zk_p999_readlatency", "zk_avg_readlatency", "zk_sum_updatelatency"] {
            #expect(ours[key] != nil, "\(key)")
        }
    }

    /// The same requests on a fresh server; its `mntr` once the orphaned session has expired.
    static func exercise(port: Int) async throws -> [String: String] {
        var configuration = try ZooKeeperConfiguration(connectionString: "127.0.0.1:\(port)")
        configuration.sessionTimeout = .seconds(30)  // no ping within the run: pings are reads too
        let client = try await ZooKeeperClient.connect(configuration)
        for index in 0..<5 { try await client.create(try ZNodePath("/m\(index)")) }
        await #expect(throws: ZooKeeperError.self) { try await client.delete("/missing") }  // an error txn: still an update
        _ = try await client.setData("/m0", data: [1])
        for _ in 0..<7 { _ = try await client.exists("/m1") }
        for _ in 0..<2 { _ = try await client.getChildren("/") }

        // The session resumed from another connection, then by the client itself (two resumes).
        let session = try #require(client.session)
        let takeover = try SessionTakeover.resume(session, port: port)
        try await eventually(within: .seconds(10)) { number(try monitor(port), "zk_connection_revalidate_count") == 2 }
        takeover.reset()
        _ = try await client.exists("/m1")

        // A session whose client vanishes expires.
        let orphan = try RawConnection(port: port)
        _ = try orphan.handshake(timeoutMilliseconds: 500)
        orphan.reset()
        try await eventually(within: .seconds(10)) { number(try monitor(port), "zk_stale_sessions_expired") == 1 }
        await client.close()
        try await eventually(within: .seconds(10)) { number(try monitor(port), "zk_cnt_updatelatency") >= 10 }
        return try monitor(port)
    }

    static func monitor(_ port: Int) throws -> [String: String] { try monitorValues(port: port) }

    static func number(_ values: [String: String], _ key: String) -> Int64 {
        values[key].flatMap { Int64($0) } ?? -1
    }
}
