import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// The ServerMetrics keys `mntr` adds to an ensemble member's answer (Apache's names), with values the
/// ensemble's own history must produce.
extension EnsembleClientTests {
    /// `mntr` as key → value, `zk_` prefix kept.
    static func monitor(_ port: Int) throws -> [String: String] { try monitorValues(port: port) }

    static func number(_ values: [String: String], _ key: String) -> Int64 {
        values[key].flatMap { Int64($0) } ?? -1
    }

    @Test func mntrReportsTheServerMetricsOfTheEnsemblesHistory() async throws {
        let directories = try (1...3).map { _ in try TemporaryDirectory() }
        defer { for directory in directories { directory.remove() } }
        let members = try await Members.start(configure: { sid, configuration in
            configuration.dataDirectory = directories[Int(sid) - 1].path
            configuration.forceSync = true
        })
        do {
            let leader = try await members.settled()
            let followers = [Int64(1), 2, 3].filter { $0 != leader }
            let client = try await members.client([followers[0]])
            let writes = 10
            for index in 0..<writes { try await client.create(ZNodePath("/m\(index)"), data: Self.bytes("value \(index)")) }
            _ = try await client.sync("/")  // the COMMITs of the writes reached this follower

            let onLeader = try Self.monitor(members.port(leader))
            // Our session's createSession and the writes: proposed, committed, each with its quorum ACK latency.
            #expect(Self.number(onLeader, "zk_proposal_count") >= Int64(writes + 1), "\(onLeader)")
            #expect(Self.number(onLeader, "zk_commit_count") >= Int64(writes + 1))
            #expect(Self.number(onLeader, "zk_cnt_quorum_ack_latency") == Self.number(onLeader, "zk_commit_count"))
            for key in ["zk_p50_quorum_ack_latency", "zk_p95_quorum_ack_latency", "zk_p99_quorum_ack_latency", "zk_p999_quorum_ack_latency"] {
                #expect(Self.number(onLeader, key) >= 0, "\(key)")
            }
            // The leader logs each proposal: every one is in some group commit, and each commit fsynced.
            let commits = Self.number(onLeader, "zk_cnt_sync_processor_batch_size")
            #expect(commits > 0 && Self.number(onLeader, "zk_sum_sync_processor_batch_size") >= Int64(writes + 1))
            #expect(Self.number(onLeader, "zk_cnt_fsynctime") >= commits, "forceSync: one fdatasync per group commit at least")
            #expect(Self.number(onLeader, "zk_cnt_election_time") >= 1 && Self.number(onLeader, "zk_looking_count") >= 1)
            #expect(Self.number(onLeader, "zk_cnt_leader_unavailable_time") >= 1)
            #expect(Self.number(onLeader, "zk_cnt_dbinittime") == 1)
            #expect(Self.number(onLeader, "zk_last_proposal_size") > 0 && Self.number(onLeader, "zk_leader_uptime") >= 0)
            #expect(Self.number(onLeader, "zk_diff_count") + Self.number(onLeader, "zk_snap_count") >= 2, "both followers were synced")
            #expect(onLeader["zk_avg_fsynctime"].flatMap(Double.init) != nil)

            let onFollower = try Self.monitor(members.port(followers[0]))
            #expect(Self.number(onFollower, "zk_learner_proposal_received_count") >= Int64(writes + 1), "\(onFollower)")
            #expect(Self.number(onFollower, "zk_learner_commit_received_count") >= Int64(writes + 1))
            #expect(Self.number(onFollower, "zk_proposal_count") == 0, "a follower proposes nothing")
            #expect(Self.number(onFollower, "zk_cnt_follower_sync_time") == 1)
            #expect(Self.number(onFollower, "zk_cnt_fsynctime") >= 1)
            #expect(Self.number(onFollower, "zk_cnt_leader_unavailable_time") == 0)

            // A follower that restarts with its disk catches up by DIFF: the leader counts that sync.
            let diffsBefore = Self.number(onLeader, "zk_diff_count")
            await client.close()
            await members.stop(followers[1])
            let other = try await members.client([followers[0]])
            try await other.create("/while-away", data: Self.bytes("x"))
            try await members.start(followers[1])
            _ = try await members.settled()
            try await eventually(within: .seconds(10)) {
                Self.number(try Self.monitor(members.port(leader)), "zk_diff_count") >= diffsBefore + 1
            }
            let restarted = try Self.monitor(members.port(followers[1]))
            #expect(Self.number(restarted, "zk_cnt_follower_sync_time") == 1, "a restarted server's metrics start again")

            // srst resets ServerMetrics too (ServerStats.reset → ServerMetrics.resetAll).
            _ = try sendFourLetterWord("srst", host: "127.0.0.1", port: members.port(leader), timeout: .seconds(2))
            let reset = try Self.monitor(members.port(leader))
            #expect(Self.number(reset, "zk_proposal_count") == 0 && Self.number(reset, "zk_cnt_quorum_ack_latency") == 0)
            await other.close()
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }
}

extension EnsembleClientTests {
    /// `zk_global_sessions` is Apache's `zkdb::getSessionCount`: every member counts the ensemble's sessions,
    /// not only those connected to it.
    @Test func everyMemberCountsTheEnsemblesGlobalSessions() async throws {
        let members = try await Members.start()
        do {
            let leader = try await members.settled()
            let followers = [Int64(1), 2, 3].filter { $0 != leader }
            let clients = [
                try await members.client([followers[0]]), try await members.client([followers[0]]),
                try await members.client([followers[1]]),
            ]
            for client in clients { _ = try await client.sync("/") }  // each member has applied every createSession
            for sid in [leader] + followers {
                #expect(Self.number(try Self.monitor(members.port(sid)), "zk_global_sessions") == 3, "member \(sid)")
            }
            for client in clients { await client.close() }
            try await eventually(within: .seconds(10)) {
                [leader, followers[0], followers[1]].allSatisfy { sid in
                    (try? Self.number(Self.monitor(members.port(sid)), "zk_global_sessions")) == 0
                }
            }
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }
}

extension EnsembleClientTests {
    /// Apache's request metrics on members: a follower times its clients' requests by kind (writes included,
    /// though the leader commits them), counts their ConnectRequests and resumes; the leader counts the
    /// REVALIDATEs learners send it and alone expires a vanished client's session.
    @Test func membersCountRequestsByKindResumesRevalidationsAndExpiries() async throws {
        let members = try await Members.start()
        do {
            let leader = try await members.settled()
            let followers = [Int64(1), 2, 3].filter { $0 != leader }
            var configuration = try ZooKeeperConfiguration(connectionString: "127.0.0.1:\(members.port(followers[0]))")
            configuration.sessionTimeout = .seconds(2)  // the ensemble's maximum: pings every ~0.7 s count as reads
            let client = try await ZooKeeperClient.connect(configuration)
            for index in 0..<4 { try await client.create(ZNodePath("/k\(index)")) }
            for _ in 0..<6 { _ = try await client.exists("/k0") }
            let onFollower = try Self.monitor(members.port(followers[0]))
            #expect(Self.number(onFollower, "zk_cnt_updatelatency") == 5, "createSession and 4 creates: \(onFollower)")
            #expect(Self.number(onFollower, "zk_cnt_readlatency") >= 6)
            #expect(Self.number(onFollower, "zk_connection_request_count") == 1)

            // Taken over through the other follower: a resume there, and a REVALIDATE to the leader.
            let session = try #require(client.session)
            let before = Self.number(try Self.monitor(members.port(leader)), "zk_revalidate_count")
            let takeover = try SessionTakeover.resume(session, port: members.port(followers[1]))
            let onOther = try Self.monitor(members.port(followers[1]))
            #expect(Self.number(onOther, "zk_connection_revalidate_count") == 1)
            #expect(Self.number(onOther, "zk_cnt_updatelatency") == 0, "a resumed session is no createSession")
            try await eventually(within: .seconds(5)) {
                Self.number(try Self.monitor(members.port(leader)), "zk_revalidate_count") >= before + 1
            }
            takeover.reset()

            // A client that vanishes: the leader, and only the leader, expires its session.
            let orphan = try RawConnection(port: members.port(followers[1]))
            _ = try orphan.handshake(timeoutMilliseconds: 400)
            orphan.reset()
            try await eventually(within: .seconds(10)) {
                Self.number(try Self.monitor(members.port(leader)), "zk_stale_sessions_expired") >= 1
            }
            for follower in followers {
                #expect(Self.number(try Self.monitor(members.port(follower)), "zk_stale_sessions_expired") == 0)
            }
            await client.close()
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }
}
