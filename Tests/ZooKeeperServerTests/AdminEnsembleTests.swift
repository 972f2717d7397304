import Testing
import ZooKeeperHTTP
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// The admin server of ensemble members (three in this process, in memory): who leads, the voting view,
/// the ensemble's `monitor` fields.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct AdminEnsembleTests {
    @Test func membersReportTheirRolesAndTheVotingView() async throws {
        let members = try await EnsembleClientTests.Members.start(configure: { _, configuration in
            configuration.admin.enabled = true
            configuration.admin.port = 0
        })
        do {
            let servers = Dictionary(uniqueKeysWithValues: members.ensemble.ids.compactMap { sid in
                members.ensemble.member(sid).map { (sid, $0.server) }
            })
            try await check(servers)
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }

    private func check(_ servers: [Int64: ZooKeeperServer]) async throws {
        func command(_ sid: Int64, _ name: String) throws -> JSONValue {
            let port = try #require(servers[sid]?.adminPort)
            return try JSONValue(parsing: try httpGet(port: port, path: "/commands/\(name)").body)
        }
        var leader: Int64 = 0
        try await eventually(within: .seconds(20)) {
            let leaders = try servers.keys.filter { try command($0, "leader")["is_leader"] == .bool(true) }
            let serving = try servers.keys.allSatisfy { try command($0, "leader")["error"] == .null }
            guard leaders.count == 1, serving else { return false }
            leader = leaders[0]
            return true
        }
        #expect(try command(leader, "leader")["leader_id"] == .int(leader))
        #expect(try command(leader, "leader")["leader_ip"] == .string("127.0.0.1"))
        #expect(try command(leader, "monitor")["server_state"] == .string("leader"))
        #expect(try command(leader, "monitor")["learners"] != nil)
        #expect(try command(leader, "zabstate")["zabstate"] == .string("broadcast"))
        // The leader reports the sizes of its proposals (none yet: Apache's -1s), a follower does not.
        #expect(try command(leader, "server_stats")["proposal_stats"]?["last_buffer_size"] != nil)
        let port = try #require(servers[leader]?.port)
        #expect(try sendFourLetterWord("srvr", host: "127.0.0.1", port: port, timeout: .seconds(2)).contains("Proposal sizes last/min/max: "))
        let follower = servers.keys.first { $0 != leader }!
        #expect(try command(follower, "leader")["is_leader"] == .bool(false))
        #expect(try command(follower, "server_stats")["proposal_stats"] == nil)
        #expect(try command(follower, "monitor")["peer_state"] == .string("following - broadcast"))
        let view = try command(follower, "voting_view")["current_config"]
        #expect(view?.keys == ["1", "2", "3"])
        #expect(view?["1"]?.keys == ["server_addresses", "election_addresses", "client_address", "learner_type"])
        #expect(view?["2"]?["learner_type"] == .string("participant"))
    }
}
