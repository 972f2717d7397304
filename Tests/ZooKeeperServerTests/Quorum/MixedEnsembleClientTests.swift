import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperPOSIX
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// Clients on a mixed ensemble: one of our servers with two Apache ZooKeeper 3.8 members (Debian jars).
/// Whoever leads, a client sees one tree from every member, watches fire across implementations, and a
/// session moves between our member and Apache's (both derive Apache's session password).
@Suite(.serialized, .timeLimit(.minutes(4)),
       .enabled(if: ApacheZooKeeper.isInstalled, Comment(rawValue: ApacheZooKeeper.notInstalledMessage)))
struct MixedEnsembleClientTests {
    /// Our member (a `ZooKeeperServer` with a client port) and Apache's, on free loopback ports.
    final class Mixed: Sendable {
        let ours: Int64
        let ourConfiguration: ServerConfiguration
        let server: ZooKeeperServer
        let apache: [Int64: ApacheZooKeeper]

        /// - Parameters:
        ///   - adminServer: every member (ours and Apache's) also runs its admin server.
        ///   - configure: adjusts our member's configuration; `log` receives its lines (default: silent).
        init(ours: Int64, apacheReady: Set<String>, adminServer: Bool = false,
             configure: ((inout ServerConfiguration) -> Void)? = nil, log: ServerLog = .silent) throws {
            self.ours = ours
            var servers: [QuorumServer] = []
            for sid in Int64(1)...3 {
                servers.append(QuorumServer(
                    id: sid, host: "127.0.0.1", quorumPort: try SocketHelpers.freeLoopbackPort(),
                    electionPort: try SocketHelpers.freeLoopbackPort(),
                    clientPort: sid == ours ? try SocketHelpers.freeLoopbackPort() : nil))
            }
            let lines = servers.map { "server.\($0.id)=\($0.host):\($0.quorumPort):\($0.electionPort)" }
            var configuration = ServerConfiguration()
            configuration.tickTime = 500
            configuration.quorum = try QuorumConfiguration(servers: servers)
            configuration.serverID = ours
            configuration.clientPort = servers[Int(ours - 1)].clientPort!
            configuration.fourLetterWordWhitelist = ["*"]
            configuration.admin.enabled = adminServer
            configuration.admin.port = 0
            configure?(&configuration)
            ourConfiguration = configuration
            server = ZooKeeperServer(configuration: configuration, log: log)
            var apache: [Int64: ApacheZooKeeper] = [:]
            for sid in Int64(1)...3 where sid != ours {
                apache[sid] = try ApacheZooKeeper(configuration: .init(
                    tickTime: 500,
                    quorumMember: .init(myid: sid, serverLines: lines, readyModes: apacheReady), adminServer: adminServer))
            }
            self.apache = apache
        }

        var ourPort: Int { ourConfiguration.clientPort }

        func startApache() async throws {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for node in apache.values { group.addTask { try await node.start() } }
                try await group.waitForAll()
            }
        }

        func ourMode() -> String? { serverMode(port: ourPort) }

        /// Starts ours first (the largest sid when `ours` is 3), then Apache's, and waits until ours leads;
        /// returns Apache's members' client ports.
        func startLedByOurs() async throws -> [Int] {
            try await server.start()
            try await startApache()
            try await eventually(within: .seconds(30)) { ourMode() == "leader" }
            return apache.keys.sorted().map { apache[$0]!.port }
        }

        func client(ports: [Int]) async throws -> ZooKeeperClient {
            var configuration = ZooKeeperConfiguration(servers: ports.map { ServerAddress(host: "127.0.0.1", port: $0) })
            configuration.sessionTimeout = .seconds(6)
            configuration.shuffleServers = false
            return try await ZooKeeperClient.connect(configuration)
        }

        func cleanup() async {
            await server.stop()
            for node in apache.values { node.cleanup() }
        }

        func logs() -> String { apache.keys.sorted().map { "node \($0):\n" + apache[$0]!.logTail(maxBytes: 4000) }.joined(separator: "\n") }
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Apache leads (sid 3); our member follows and serves clients.
    @Test func ourFollowerServesClientsOfAnApacheEnsemble() async throws {
        let mixed = try Mixed(ours: 1, apacheReady: ["leader", "follower"])
        do {
            try await mixed.startApache()
            try await mixed.server.start()
            try await eventually(within: .seconds(30)) { mixed.ourMode() == "follower" }
            let apachePort = mixed.apache[2]!.port
            let onOurs = try await mixed.client(ports: [mixed.ourPort])
            let onApache = try await mixed.client(ports: [apachePort])

            try await onOurs.create("/ours", data: Self.bytes("a"))
            _ = try await onApache.sync("/ours")
            #expect(try await onApache.getData("/ours").data == Self.bytes("a"), "written through our follower, read on Apache's")

            let watch = try await onOurs.existsWatching("/from-apache").watch
            try await onApache.create("/from-apache")
            let event = try await withTimeout(.seconds(10)) { try await watch.event() }
            #expect(event.type == .nodeCreated, "Apache's write fires a watch on our member")

            // A session made on our member moves to Apache's with its password: its ephemeral stays.
            let moving = try await mixed.client(ports: [mixed.ourPort, apachePort])
            try await moving.create("/moving", mode: .ephemeral)
            let session = moving.session?.id
            await mixed.server.stop()
            try await eventually(within: .seconds(15)) { (try? await moving.sync("/moving")) != nil }
            #expect(moving.session?.id == session, "the same session, now on Apache's member")
            #expect(try await onApache.exists("/moving") != nil)
            for client in [onOurs, onApache, moving] { await client.close() }
        } catch {
            Issue.record("\(error)\n\(mixed.logs())")
        }
        await mixed.cleanup()
    }

    /// CI's hang: a takeover through Apache's follower revalidates after the client's own reconnection to our
    /// leader, so our leader counts the session as that follower's while the client stays here. The client's
    /// next multi (a queue's take) must not be refused for as long as it stays: our leader closes the connection
    /// (as Apache's FinalRequestProcessor would), the client comes back, and the retry commits.
    @Test func aClientOnOurLeaderWhoseSessionApachesFollowerRevalidatedRecovers() async throws {
        let mixed = try Mixed(ours: 3, apacheReady: ["follower"])
        do {
            let apachePorts = try await mixed.startLedByOurs()
            let client = try await mixed.client(ports: [mixed.ourPort])
            try await client.create("/queue")
            try await client.create("/queue/item")
            try await EnsembleClientTests.expectClosedAfterTakeover(of: client, through: apachePorts[0], reconnectWithin: .seconds(15), "a multi through our leader") {
                _ = try await client.multi([.delete("/queue/item"), .create("/queue/receipt", mode: .ephemeral)])
            }
            let results = try await client.multi([.delete("/queue/item"), .create("/queue/receipt", mode: .ephemeral)])
            #expect(results.count == 2)
            await client.close()
        } catch {
            Issue.record("\(error)\n\(mixed.logs())")
        }
        await mixed.cleanup()
    }

    /// The reference for our leader's read check (`EnsembleClientTests`): a client on Apache's leader whose
    /// session a takeover revalidated through our follower. Apache's leader closes the client's connection on
    /// its next read (`checkSession` in prep for reads too); the client reconnects and reads on.
    @Test func apachesLeaderClosesAReadOfASessionOurFollowerServesNow() async throws {
        let mixed = try Mixed(ours: 1, apacheReady: ["leader", "follower"])
        do {
            try await mixed.startApache()
            try await mixed.server.start()
            try await eventually(within: .seconds(30)) { mixed.ourMode() == "follower" }
            let leaderPort = try #require(mixed.apache.values.map(\.port).first { serverMode(port: $0) == "leader" })
            let client = try await mixed.client(ports: [leaderPort])
            try await client.create("/apache-moved-read", data: Self.bytes("a"))
            try await EnsembleClientTests.expectClosedAfterTakeover(of: client, through: mixed.ourPort, reconnectWithin: .seconds(15), "a read on Apache's leader") {
                _ = try await client.getData("/apache-moved-read")
            }
            #expect(try await client.getData("/apache-moved-read").data == Self.bytes("a"))
            await client.close()
        } catch {
            Issue.record("\(error)\n\(mixed.logs())")
        }
        await mixed.cleanup()
    }

    /// We lead (sid 3, started first); Apache's members follow; clients of Apache's members write through us.
    @Test func apacheFollowersServeClientsUnderOurLeader() async throws {
        let mixed = try Mixed(ours: 3, apacheReady: ["follower"])
        do {
            let apachePorts = try await mixed.startLedByOurs()
            let onApache = try await mixed.client(ports: [apachePorts[0]])
            let onOurs = try await mixed.client(ports: [mixed.ourPort])

            let watch = try await onOurs.existsWatching("/via-apache").watch
            try await onApache.create("/via-apache", data: Self.bytes("b"))
            #expect(try await withTimeout(.seconds(10)) { try await watch.event() }.type == .nodeCreated)
            #expect(try await onOurs.getData("/via-apache").data == Self.bytes("b"))
            // A multi with creates (our client sends create2) prepared by our leader: the transaction must be
            // one Apache 3.8.0 can apply (no create2 sub-transaction), or its follower answers nothing.
            let results = try await onApache.multi([.create("/m1"), .create("/m1/m2", mode: .ephemeral)])
            #expect(results.count == 2)
            _ = try await onOurs.sync("/m1")
            #expect(try await onOurs.exists("/m1/m2") != nil)

            // A session made on Apache's follower moves to our leader (REVALIDATE is answered locally).
            let moving = try await mixed.client(ports: [apachePorts[1], mixed.ourPort])
            try await moving.create("/moving", mode: .ephemeral)
            let session = moving.session?.id
            try await mixed.apache[mixed.apache.keys.sorted()[1]]!.stop()
            try await eventually(within: .seconds(15)) { (try? await moving.sync("/moving")) != nil }
            #expect(moving.session?.id == session, "the same session, now on our member")
            #expect(try await onOurs.exists("/moving") != nil)

            let monitor = try sendFourLetterWord("mntr", host: "127.0.0.1", port: mixed.ourPort, timeout: .seconds(2))
            #expect(monitor.contains("zk_server_state\tleader\n"))
            for client in [onApache, onOurs, moving] { await client.close() }
        } catch {
            Issue.record("\(error)\n\(mixed.logs())")
        }
        await mixed.cleanup()
    }
}
