import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperPOSIX
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// Observers across implementations: our observer of an Apache ensemble, and an Apache observer of an
/// ensemble we lead. Sids 1–3 vote, sid 4 observes.
@Suite(.serialized, .timeLimit(.minutes(4)),
       .enabled(if: ApacheZooKeeper.isInstalled, Comment(rawValue: ApacheZooKeeper.notInstalledMessage)))
struct MixedObserverTests {
    final class Mixed: Sendable {
        let servers: [QuorumServer]
        let ours: ZooKeeperServer
        let ourID: Int64
        let apache: [Int64: ApacheZooKeeper]

        init(ours ourID: Int64) throws {
            var servers: [QuorumServer] = []
            for sid in Int64(1)...4 {
                servers.append(QuorumServer(
                    id: sid, host: "127.0.0.1", quorumPort: try SocketHelpers.freeLoopbackPort(),
                    electionPort: try SocketHelpers.freeLoopbackPort(), type: sid == 4 ? .observer : .participant,
                    clientPort: sid == ourID ? try SocketHelpers.freeLoopbackPort() : nil))
            }
            self.servers = servers
            self.ourID = ourID
            var configuration = ServerConfiguration()
            configuration.tickTime = 500
            configuration.quorum = try QuorumConfiguration(servers: servers)
            configuration.serverID = ourID
            configuration.clientPort = servers[Int(ourID - 1)].clientPort!
            configuration.fourLetterWordWhitelist = ["*"]
            ours = ZooKeeperServer(configuration: configuration)
            let lines = servers.map { "server.\($0.id)=\($0.host):\($0.quorumPort):\($0.electionPort)" + ($0.type == .observer ? ":observer" : "") }
            var apache: [Int64: ApacheZooKeeper] = [:]
            for sid in Int64(1)...4 where sid != ourID {
                apache[sid] = try ApacheZooKeeper(configuration: .init(
                    tickTime: 500, extraConfig: sid == 4 ? ["peerType=observer"] : [],
                    quorumMember: .init(myid: sid, serverLines: lines, readyModes: sid == 4 ? ["observer"] : ["leader", "follower"])))
            }
            self.apache = apache
        }

        var ourPort: Int { servers[Int(ourID - 1)].clientPort! }

        func start(_ sids: [Int64]) async throws {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for sid in sids { if let node = apache[sid] { group.addTask { try await node.start() } } }
                try await group.waitForAll()
            }
        }

        func ourMode() -> String? { serverMode(port: ourPort) }

        func client(port: Int) async throws -> ZooKeeperClient {
            var configuration = ZooKeeperConfiguration(servers: [ServerAddress(host: "127.0.0.1", port: port)])
            configuration.sessionTimeout = .seconds(6)
            return try await ZooKeeperClient.connect(configuration)
        }

        func cleanup() async {
            await ours.stop()
            for node in apache.values { node.cleanup() }
        }

        func logs() -> String { apache.keys.sorted().map { "node \($0):\n" + apache[$0]!.logTail(maxBytes: 3000) }.joined(separator: "\n") }
    }

    /// Our member observes an Apache ensemble: OBSERVERINFO, Apache's INFORMs, clients served, writes forwarded.
    @Test func ourObserverOfAnApacheEnsemble() async throws {
        let mixed = try Mixed(ours: 4)
        do {
            try await mixed.start([1, 2, 3])
            try await mixed.ours.start()
            try await eventually(within: .seconds(30)) { mixed.ourMode() == "observer" }
            let onApache = try await mixed.client(port: mixed.apache[1]!.port)
            let onOurs = try await mixed.client(port: mixed.ourPort)
            let watch = try await onOurs.existsWatching("/informed").watch
            try await onApache.create("/informed")
            #expect(try await withTimeout(.seconds(10)) { try await watch.event() }.type == .nodeCreated)
            try await onOurs.create("/via-our-observer", data: Array("o".utf8))
            _ = try await onApache.sync("/via-our-observer")
            #expect(try await onApache.getData("/via-our-observer").data == Array("o".utf8))
            // INFORMs carry the Apache leader's digest: our observer compares each one.
            let digests = try #require(await MixedEnsembleDigestTests.statistics(mixed.ours))
            #expect(digests.checked >= 2 && digests.mismatches == 0, "\(digests)")
            await onApache.close()
            await onOurs.close()
        } catch {
            Issue.record("\(error)\n\(mixed.logs())")
        }
        await mixed.cleanup()
    }

    /// An Apache observer of an ensemble we lead (sid 3, started first): it is sent INFORMs, not proposals.
    @Test func anApacheObserverOfOurLeader() async throws {
        let mixed = try Mixed(ours: 3)
        do {
            try await mixed.ours.start()
            try await mixed.start([1, 2])
            try await eventually(within: .seconds(30)) { mixed.ourMode() == "leader" }
            try await mixed.start([4])
            let onOurs = try await mixed.client(port: mixed.ourPort)
            let onObserver = try await mixed.client(port: mixed.apache[4]!.port)
            let watch = try await onObserver.existsWatching("/to-observer").watch
            try await onOurs.create("/to-observer")
            #expect(try await withTimeout(.seconds(10)) { try await watch.event() }.type == .nodeCreated)
            try await onObserver.create("/from-apache-observer")
            _ = try await onOurs.sync("/from-apache-observer")
            #expect(try await onOurs.exists("/from-apache-observer") != nil)
            let monitor = try sendFourLetterWord("mntr", host: "127.0.0.1", port: mixed.ourPort, timeout: .seconds(2))
            #expect(monitor.contains("zk_learners\t3\n") && monitor.contains("zk_synced_followers\t2\n"), "\(monitor)")
            // Our INFORMs carry our digest, which the Apache observer finds right.
            #expect(try MixedEnsembleDigestTests.mismatches(port: mixed.apache[4]!.port) == "0")
            await onOurs.close()
            await onObserver.close()
        } catch {
            Issue.record("\(error)\n\(mixed.logs())")
        }
        await mixed.cleanup()
    }
}
