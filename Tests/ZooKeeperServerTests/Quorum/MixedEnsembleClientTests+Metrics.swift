import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// Our `mntr` beside Apache's in one ensemble: every ServerMetrics key we claim is one Apache's member of the
/// same role prints too, and the counters agree on what both members saw.
extension MixedEnsembleClientTests {
    /// The keys we claim (with `zk_`): ServerMetrics' for every role, plus the leader's gauges.
    static func claimedKeys(leader: Bool) -> [String] {
        let metrics = ServerMetrics.Values().monitorValues.map { "zk_" + $0.key }
        let leaderGauges = ["zk_last_proposal_size", "zk_min_proposal_size", "zk_max_proposal_size", "zk_leader_uptime"]
        return metrics + (leader ? leaderGauges : [])
    }

    static func missing(_ keys: [String], in monitor: [String: String]) -> [String] {
        keys.filter { monitor[$0] == nil }
    }

    /// Apache leads; our follower and Apache's follower both saw every PROPOSAL and COMMIT of the writes.
    @Test func ourFollowersMetricKeysAreApachesFollowers() async throws {
        let mixed = try Mixed(ours: 1, apacheReady: ["leader", "follower"])
        do {
            try await mixed.startApache()
            try await mixed.server.start()
            try await eventually(within: .seconds(30)) { mixed.ourMode() == "follower" }
            let apacheFollower = try #require(mixed.apache.values.first { serverMode(port: $0.port) == "follower" })
            let client = try await mixed.client(ports: [mixed.ourPort])
            let writes = 5
            for index in 0..<writes { try await client.create(ZNodePath("/f\(index)")) }
            _ = try await client.sync("/")
            await client.close()

            let ours = try EnsembleClientTests.monitor(mixed.ourPort)
            let theirs = try EnsembleClientTests.monitor(apacheFollower.port)
            let claimed = Self.claimedKeys(leader: false)
            #expect(Self.missing(claimed, in: theirs).isEmpty, "keys Apache's follower lacks: \(Self.missing(claimed, in: theirs))")
            #expect(Self.missing(claimed, in: ours).isEmpty, "keys our follower lacks: \(Self.missing(claimed, in: ours))")
            for key in ["zk_learner_proposal_received_count", "zk_learner_commit_received_count"] {
                #expect(EnsembleClientTests.number(ours, key) >= Int64(writes), "\(key) ours: \(ours[key] ?? "-")")
                #expect(EnsembleClientTests.number(theirs, key) >= Int64(writes), "\(key) Apache's: \(theirs[key] ?? "-")")
            }
            #expect(EnsembleClientTests.number(ours, "zk_cnt_follower_sync_time") == 1)
            #expect(EnsembleClientTests.number(ours, "zk_proposal_count") == 0)
        } catch {
            Issue.record("\(error)\n\(mixed.logs())")
        }
        await mixed.cleanup()
    }

    /// We lead Apache's followers: our leader's keys are Apache's leader's (read from an Apache leader after we
    /// stop and one of them takes over), and our counts match the followers' view of our proposals.
    @Test func ourLeadersMetricKeysAreApachesLeaders() async throws {
        let mixed = try Mixed(ours: 3, apacheReady: ["follower"])
        do {
            let apachePorts = try await mixed.startLedByOurs()
            let client = try await mixed.client(ports: apachePorts)
            let writes = 5
            for index in 0..<writes { try await client.create(ZNodePath("/l\(index)")) }
            _ = try await client.sync("/")

            let ours = try EnsembleClientTests.monitor(mixed.ourPort)
            let claimed = Self.claimedKeys(leader: true)
            #expect(Self.missing(claimed, in: ours).isEmpty, "keys our leader lacks: \(Self.missing(claimed, in: ours))")
            #expect(EnsembleClientTests.number(ours, "zk_proposal_count") >= Int64(writes + 1), "\(ours)")
            #expect(EnsembleClientTests.number(ours, "zk_cnt_quorum_ack_latency") >= Int64(writes + 1))
            #expect(EnsembleClientTests.number(ours, "zk_diff_count") + EnsembleClientTests.number(ours, "zk_snap_count") >= 2,
                    "both Apache followers were synced by us")
            let onFollower = try EnsembleClientTests.monitor(apachePorts[0])
            #expect(EnsembleClientTests.number(onFollower, "zk_learner_proposal_received_count") >= Int64(writes),
                    "Apache's follower counted our proposals")

            // Our leader stops: an Apache member leads, and prints the same leader keys.
            await mixed.server.stop()
            var apacheLeader = 0
            try await eventually(within: .seconds(30)) {
                guard let port = apachePorts.first(where: { serverMode(port: $0) == "leader" }) else { return false }
                apacheLeader = port
                return true
            }
            try await eventually(within: .seconds(15)) { (try? await client.sync("/")) != nil }  // served again
            let theirs = try EnsembleClientTests.monitor(apacheLeader)
            #expect(Self.missing(claimed, in: theirs).isEmpty, "keys Apache's leader lacks: \(Self.missing(claimed, in: theirs))")
            await client.close()
        } catch {
            Issue.record("\(error)\n\(mixed.logs())")
        }
        await mixed.cleanup()
    }
}
