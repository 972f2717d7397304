import Foundation
import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperPOSIX
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// A follower that missed more than the leader's in-memory committed log is brought up to date with a DIFF
/// read back from the leader's txn log (Apache 3.8 `syncFollower` case 5), not a SNAP.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TxnLogSyncEnsembleTests {
    typealias Members = EnsembleClientTests.Members

    @Test func aRestartedFollowerIsDiffedFromTheLeadersTxnLog() async throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let lines = Mutex<[String]>([])
        let members = try await Members.start(
            configure: { (sid: Int64, configuration: inout ServerConfiguration) in
                configuration.dataDirectory = root.path + "/\(sid)"
                configuration.preAllocSizeKB = 64
                configuration.forceSync = false
                configuration.committedLogCount = 10  // so 30 writes reach past it
            },
            log: { (sid: Int64, _: ServerLog.Level, message: String) in lines.withLock { $0.append("[\(sid)] \(message)") } })
        do {
            let leader = try await members.settled()
            let follower = [Int64(1), 2, 3].first { $0 != leader }!
            let onLeader = try await members.client([leader])
            for index in 0..<5 { try await onLeader.create(ZNodePath("/before\(index)"), data: EnsembleClientTests.bytes("\(index)")) }
            await members.stop(follower)
            for index in 0..<30 { try await onLeader.create(ZNodePath("/missed\(index)"), data: EnsembleClientTests.bytes("\(index)")) }
            try await members.start(follower)
            _ = try await members.settled()

            let onFollower = try await members.client([follower])
            _ = try await onFollower.sync("/")
            let expected = try await onLeader.getChildren("/").sorted()
            #expect(expected.count == 36)  // zookeeper + 35
            #expect(try await onFollower.getChildren("/").sorted() == expected)
            for index in [0, 17, 29] {
                #expect(try await onFollower.getData(ZNodePath("/missed\(index)")).data == EnsembleClientTests.bytes("\(index)"))
            }
            // The DIFF's txns carried their digests: the follower checked every one against its tree.
            let mntr = try sendFourLetterWord("mntr", host: "127.0.0.1", port: members.port(follower), timeout: .seconds(2))
            #expect(mntr.contains("zk_digest_mismatches_count\t0\n"), "\(mntr)")
            let logged = lines.withLock { $0 }
            #expect(logged.contains { $0.hasPrefix("[\(leader)] leader \(leader): synced learner \(follower) at") && $0.hasSuffix("from the txn log") })
            #expect(!logged.contains { $0.contains("synced learner \(follower)") && $0.contains("a SNAP") })
            await onFollower.close()
            await onLeader.close()
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }

    /// The same with an Apache 3.8 follower of our leader: it applies the DIFF read from our log.
    @Test(.enabled(if: ApacheZooKeeper.isInstalled, Comment(rawValue: ApacheZooKeeper.notInstalledMessage)))
    func anApacheFollowerIsDiffedFromOurTxnLog() async throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        let lines = Mutex<[String]>([])
        let mixed = try MixedEnsembleClientTests.Mixed(
            ours: 3, apacheReady: ["follower"],
            configure: { (configuration: inout ServerConfiguration) in
                configuration.dataDirectory = root.path
                configuration.preAllocSizeKB = 64
                configuration.forceSync = false
                configuration.committedLogCount = 10
            },
            log: ServerLog { (_: ServerLog.Level, message: String) in lines.withLock { $0.append(message) } })
        do {
            try await mixed.server.start()
            try await mixed.startApache()
            try await eventually(within: .seconds(30)) { mixed.ourMode() == "leader" }
            let onOurs = try await mixed.client(ports: [mixed.ourPort])
            for index in 0..<5 { try await onOurs.create(ZNodePath("/before\(index)")) }
            let (sid, node) = mixed.apache.sorted { $0.key < $1.key }[0]
            try await node.stop()
            for index in 0..<30 { try await onOurs.create(ZNodePath("/missed\(index)"), data: EnsembleClientTests.bytes("\(index)")) }
            try await node.start()
            let onApache = try await mixed.client(ports: [node.port])
            _ = try await onApache.sync("/")
            let expected = try await onOurs.getChildren("/").sorted()
            #expect(expected.count == 36)
            #expect(try await onApache.getChildren("/").sorted() == expected)
            #expect(try await onApache.getData("/missed29").data == EnsembleClientTests.bytes("29"))
            let logged = lines.withLock { $0 }
            #expect(logged.contains { $0.contains("synced learner \(sid) at") && $0.hasSuffix("from the txn log") }, "\(logged.filter { $0.contains("synced") })")
            // Apache's follower checked each txn's digest against its tree and found none wrong.
            #expect(try MixedEnsembleDigestTests.mismatches(port: node.port) == "0")
            for client in [onOurs, onApache] { await client.close() }
        } catch {
            Issue.record("\(error)\n\(mixed.logs())")
        }
        await mixed.cleanup()
    }
}
