import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperPOSIX
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// Our follower in an Apache ZooKeeper 3.8 ensemble: elected into it, synchronised by SNAP and by DIFF,
/// replicating the Apache leader's writes, counted by the leader as a synced follower.
@Suite(.serialized, .timeLimit(.minutes(3)),
       .enabled(if: ApacheZooKeeper.isInstalled, Comment(rawValue: ApacheZooKeeper.notInstalledMessage)))
struct ApacheLeaderInteropTests {
    typealias Mixed = ApacheElectionInteropTests.Mixed

    /// Elects (the elector keeps running while we follow, answering LOOKING peers), then follows.
    static func follow(_ mixed: Mixed, _ elector: LeaderElector, database: ZooKeeperDatabase, epochs: EpochFiles) async throws -> FollowerDriver {
        let outcome = try await withTimeout(.seconds(30)) {
            try await elector.lookForLeader(lastLoggedZxid: database.lastProcessedZxid, currentEpoch: epochs.currentEpoch)
        }
        #expect(outcome.state == .following)
        return try FollowerDriver(
            settings: .init(myID: 1, leader: mixed.configuration.servers[outcome.vote.leader]!, tickTime: .milliseconds(500),
                            initLimit: 10, syncLimit: 5, configString: mixed.configuration.configString),
            database: database, epochs: epochs)
    }

    static func node(_ follower: FollowerDriver, _ path: String) -> [UInt8]? {
        follower.withDatabase { $0.tree.node(path)?.data } ?? nil
    }

    @Test func weFollowAnApacheLeaderThroughSnapDiffAndBroadcast() async throws {
        let mixed = try Mixed(apacheSids: [2, 3], readyModes: ["leader", "follower"])
        defer { mixed.cleanup() }
        try await mixed.startApache()
        let leader = mixed.apache[3]!
        let client = try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectionString: leader.connectString))
        let elector = try mixed.elector()
        do {
            // History before we join: a wiped follower gets a SNAP.
            for index in 0..<5 { try await client.create(try ZNodePath("/before\(index)"), data: Array("b\(index)".utf8)) }

            let follower = try await Self.follow(mixed, elector, database: ZooKeeperDatabase(), epochs: try EpochFiles(directory: nil, lastLoggedZxid: 0))
            let run = Task { [follower] in await follower.run() }
            defer { follower.stop() }  // on every path (the thread would otherwise outlive the test)
            try await eventually(within: .seconds(20)) { follower.status.phase == .broadcast }
            #expect(follower.status.syncMode == .snap && follower.status.epoch == 1)
            #expect(Self.node(follower, "/before4") == Array("b4".utf8))
            #expect(Self.node(follower, "/zookeeper/config") == Array(mixed.configuration.configString.utf8))
            let mntr = try sendFourLetterWord("mntr", host: "127.0.0.1", port: leader.port, timeout: .seconds(5))
            #expect(mntr.contains("zk_synced_followers\t2"), "\(mntr)")

            // Broadcast: the leader's writes reach our tree, in order, with Apache's stats.
            try await client.create(ZNodePath("/live"), data: Array("one".utf8))
            _ = try await client.setData(ZNodePath("/live"), data: Array("two".utf8))
            try await client.delete(ZNodePath("/before0"))
            // The delete was the last write: once it is applied, so are the two before it.
            try await eventually(within: .seconds(10)) { Self.node(follower, "/before0") == nil }
            #expect(Self.node(follower, "/live") == Array("two".utf8))
            let (_, stat) = try await client.getData(ZNodePath("/live"))
            #expect(follower.withDatabase { $0.tree.node("/live")?.stat.mzxid } == stat.mzxid)

            // Leave, miss some writes, come back: a DIFF brings exactly those.
            follower.stop()
            _ = await run.value
            let (database, epochs) = try #require(follower.finalState(returned: nil))
            try await client.create(ZNodePath("/whileAway"), data: Array("w".utf8))
            let rejoined = try await Self.follow(mixed, elector, database: database, epochs: epochs)
            let rerun = Task { [rejoined] in await rejoined.run() }
            defer { rejoined.stop() }
            try await eventually(within: .seconds(20)) { rejoined.status.phase == .broadcast }
            #expect(rejoined.status.syncMode == .diff)
            #expect(Self.node(rejoined, "/whileAway") == Array("w".utf8))
            let lastZxid = try await client.getData(ZNodePath("/whileAway")).stat.mzxid
            #expect(rejoined.withDatabase { $0.lastProcessedZxid } == lastZxid)
            // The Apache leader's digests, checked after the SNAP, in broadcast and after the DIFF: all right.
            let digests = try #require(rejoined.withDatabase { $0.tree.digestStatistics })
            #expect(digests.checked >= 4 && digests.mismatches == 0, "\(digests)")
            rejoined.stop()
            _ = await rerun.value
        } catch {
            Issue.record("\(error)\n\(mixed.logs())")
        }
        await elector.stop()
        await client.close()
    }
}
