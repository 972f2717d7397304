import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperPOSIX
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// A leader whose digests are wrong (fault injection): the followers count every mismatch and go on
/// applying, as Apache's do — ours, and (the proof that Apache's check is live, so its "0" elsewhere means
/// something) Apache 3.8's.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DigestFaultTests {
    static func createRequest(_ path: String, cxid: Int32) -> ClientRequest {
        var writer = JuteWriter()
        writer.write(CreateRequest(path: path, data: Array("d".utf8), acl: .openACLUnsafe, flags: 0))
        return ClientRequest(sessionId: 0, cxid: cxid, opCode: .create, body: writer.bytes, authIds: [])
    }

    /// Our leader with a digest fault and our follower, over loopback (no election: the two of a three-member
    /// configuration are a quorum).
    @Test func ourFollowerCountsWrongDigests() async throws {
        let listener = try Socket.listen(host: "127.0.0.1", port: 0)
        let configuration = try QuorumConfiguration(servers: [
            QuorumServer(id: 1, host: "127.0.0.1", quorumPort: listener.localAddress!.port, electionPort: try SocketHelpers.freeLoopbackPort()),
            QuorumServer(id: 2, host: "127.0.0.1", quorumPort: try SocketHelpers.freeLoopbackPort(), electionPort: try SocketHelpers.freeLoopbackPort()),
            QuorumServer(id: 3, host: "127.0.0.1", quorumPort: try SocketHelpers.freeLoopbackPort(), electionPort: try SocketHelpers.freeLoopbackPort()),
        ])
        var settings = LeaderDriver.Settings(myID: 1, configuration: configuration, tickTime: .milliseconds(200), initLimit: 10, syncLimit: 5)
        settings.digestFault = 1
        let leader = try LeaderDriver(settings: settings, listener: listener, database: ZooKeeperDatabase(),
                                      epochs: try EpochFiles(directory: nil, lastLoggedZxid: 0))
        let follower = try FollowerDriver(
            settings: .init(myID: 2, leader: configuration.servers[1]!, tickTime: .milliseconds(200), initLimit: 10, syncLimit: 5,
                            configString: configuration.configString),
            database: ZooKeeperDatabase(), epochs: try EpochFiles(directory: nil, lastLoggedZxid: 0))
        let leading = Task { [leader] in await leader.run() }
        let following = Task { [follower] in await follower.run() }
        // Both threads stop however the checks end (a thread left polling keeps the test process alive).
        var failure: (any Error)?
        do {
            try await Self.checkMismatches(leader, follower)
        } catch {
            failure = error
        }
        leader.stop()
        follower.stop()
        _ = await leading.value
        _ = await following.value
        if let failure { throw failure }
    }

    static func checkMismatches(_ leader: LeaderDriver, _ follower: FollowerDriver) async throws {
        try await eventually(within: .seconds(20)) { leader.status.phase == .broadcast && follower.status.phase == .broadcast }

        let writes = 5
        for index in 0..<writes {
            let result = try await leader.submit(Self.createRequest("/bad\(index)", cxid: Int32(index + 1)))
            #expect(result.err == .ok)
        }
        try await eventually(within: .seconds(10)) { follower.withDatabase { $0.tree.node("/bad\(writes - 1)") != nil } == true }
        let statistics = try #require(follower.withDatabase { $0.tree.digestStatistics })
        #expect(statistics.checked == Int64(writes))
        #expect(statistics.mismatches == Int64(writes), "\(statistics)")
        #expect(statistics.lastMismatch.map { $0.expected &- $0.actual } == 1)
        // Nothing else happens: the trees agree.
        #expect(follower.withDatabase { $0.tree.nodes } == leader.withDatabase { $0.tree.nodes })
        #expect(follower.withDatabase { $0.tree.digestSum } == leader.withDatabase { $0.tree.digestSum })
    }

    /// The same fault with Apache 3.8 followers: their `mntr` counts the mismatches.
    @Test(.enabled(if: ApacheZooKeeper.isInstalled, Comment(rawValue: ApacheZooKeeper.notInstalledMessage)))
    func apacheFollowersCountWrongDigests() async throws {
        let mixed = try ApacheElectionInteropTests.Mixed(ours: 3, apacheSids: [1, 2], readyModes: nil)
        defer { mixed.cleanup() }
        let elector = try mixed.elector()
        do {
            try await mixed.apache[1]!.start()
            let outcome = try await withTimeout(.seconds(30)) { try await elector.lookForLeader(lastLoggedZxid: 0, currentEpoch: 0) }
            try #require(outcome.state == .leading)
            var settings = LeaderDriver.Settings(myID: 3, configuration: mixed.configuration, tickTime: .milliseconds(500), initLimit: 10, syncLimit: 5)
            settings.digestFault = 1
            let leader = try LeaderDriver(settings: settings, listener: mixed.ourQuorumListener, database: ZooKeeperDatabase(),
                                          epochs: try EpochFiles(directory: nil, lastLoggedZxid: 0))
            let run = Task { [leader] in await leader.run() }
            defer { leader.stop() }  // on every path (the thread would otherwise outlive the test)
            try await eventually(within: .seconds(20)) { leader.status.phase == .broadcast && leader.status.syncedFollowers >= 1 }
            elector.updateElectionVote(peerEpoch: leader.status.epoch)
            for index in 0..<3 {
                #expect(try await leader.submit(Self.createRequest("/bad\(index)", cxid: Int32(index + 1))).err == .ok)
            }
            let port = mixed.apache[1]!.port
            let client = try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectionString: mixed.apache[1]!.connectString))
            _ = try await client.sync("/bad2")
            #expect(try await client.exists("/bad2") != nil, "Apache applies a txn whose digest is wrong")
            await client.close()
            let count = try MixedEnsembleDigestTests.mismatches(port: port).flatMap { Int($0) }
            #expect((count ?? 0) >= 3, "Apache's zk_digest_mismatches_count: \(String(describing: count))")
            leader.stop()
            _ = await run.value
        } catch {
            Issue.record("\(error)\n\(mixed.logs())")
        }
        await elector.stop()
    }
}
