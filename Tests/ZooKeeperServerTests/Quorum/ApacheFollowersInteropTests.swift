import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperPOSIX
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// Our leader with Apache ZooKeeper 3.8 followers: they elect us, synchronise from us, serve their
/// clients from our history, and forward their clients' writes, which we propose and commit.
@Suite(.serialized, .timeLimit(.minutes(3)),
       .enabled(if: ApacheZooKeeper.isInstalled, Comment(rawValue: ApacheZooKeeper.notInstalledMessage)))
struct ApacheFollowersInteropTests {
    typealias Mixed = ApacheElectionInteropTests.Mixed

    static func mode(_ node: ApacheZooKeeper) -> String? { serverMode(port: node.port) }

    /// A raw session on `port` that creates an ephemeral and vanishes without closeSession (the
    /// connection closes when the `RawConnection` goes away).
    static func createOrphan(_ path: String, port: Int) throws {
        let raw = try RawConnection(port: port)
        _ = try raw.handshake(timeoutMilliseconds: 1500)
        var request = JuteWriter()
        request.write(RequestHeader(xid: 1, type: OpCode.create.rawValue))
        request.write(CreateRequest(path: path, data: [], acl: .openACLUnsafe, flags: CreateMode.ephemeral.rawValue))
        try raw.writeFrame(request.bytes)
        guard case let .frame(reply) = try raw.readFrame() else { throw TestSupportError("no reply to create") }
        #expect(RawConnection.replyError(reply) == 0)
    }

    @Test func apacheFollowsOurLeaderAndForwardsWrites() async throws {
        let mixed = try Mixed(ours: 3, apacheSids: [1, 2], readyModes: nil)
        defer { mixed.cleanup() }
        // History we hold before the election: Apache followers must receive it (SNAP or DIFF).
        var database = ZooKeeperDatabase()
        let seed = ClientRequest(sessionId: 0, cxid: 1, opCode: .create,
                                 body: { var w = JuteWriter(); w.write(CreateRequest(path: "/seeded", data: Array("s".utf8), acl: .openACLUnsafe, flags: 0)); return w.bytes }(),
                                 authIds: [])
        _ = database.process(seed, zxid: 1, now: 1)
        let elector = try mixed.elector()
        do {
            // Apache 1 alone cannot form a quorum without our vote, and our history is longer: we lead.
            // Apache 2 joins afterwards and finds an established leader.
            try await mixed.apache[1]!.start()
            let outcome = try await withTimeout(.seconds(30)) { try await elector.lookForLeader(lastLoggedZxid: 1, currentEpoch: 0) }
            #expect(outcome.state == .leading)
            let leader = try LeaderDriver(
                settings: .init(myID: 3, configuration: mixed.configuration, tickTime: .milliseconds(500), initLimit: 10, syncLimit: 5),
                listener: mixed.ourQuorumListener, database: database, epochs: try EpochFiles(directory: nil, lastLoggedZxid: 1))
            let run = Task { [leader] in await leader.run() }
            defer { leader.stop() }  // on every path (the thread would otherwise outlive the test)
            try await mixed.apache[2]!.start()
            try await eventually(within: .seconds(20)) {
                mixed.apache.values.allSatisfy { Self.mode($0) == "follower" }
            }
            #expect(leader.status.phase == .broadcast && leader.status.syncedFollowers == 2)
            elector.updateElectionVote(peerEpoch: leader.status.epoch)

            // A client on an Apache follower reads our history and writes through us.
            let onFollower = try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectionString: mixed.apache[1]!.connectString))
            #expect(try await onFollower.getData(ZNodePath("/seeded")).data == Array("s".utf8))
            try await onFollower.create(ZNodePath("/through"), data: Array("apache".utf8))
            try await onFollower.create(ZNodePath("/through/child"), mode: .ephemeral)
            _ = try await onFollower.setData(ZNodePath("/through"), data: Array("again".utf8))
            #expect(leader.withDatabase { $0.tree.node("/through")?.data } == Array("again".utf8))
            #expect(leader.withDatabase { $0.tree.node("/through/child") != nil } == true)
            // The other Apache follower sees it too, after a sync.
            let onOther = try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectionString: mixed.apache[2]!.connectString))
            _ = try await onOther.sync(ZNodePath("/through"))
            #expect(try await onOther.getData(ZNodePath("/through")).data == Array("again".utf8))
            // Closing the session removes its ephemeral everywhere (closeSession through our leader).
            await onFollower.close()
            try await eventually(within: .seconds(10)) { leader.withDatabase { $0.tree.node("/through/child") == nil } == true }
            _ = try await onOther.sync(ZNodePath("/through"))
            #expect(try await onOther.exists(ZNodePath("/through/child")) == nil)
            await onOther.close()

            // Our own write, proposed by us, reaches the Apache followers.
            var writer = JuteWriter()
            writer.write(CreateRequest(path: "/fromLeader", data: Array("L".utf8), acl: .openACLUnsafe, flags: 0))
            let result = try await leader.submit(ClientRequest(sessionId: 0, cxid: 2, opCode: .create, body: writer.bytes, authIds: []))
            #expect(result.err == .ok)
            let reader = try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectionString: mixed.apache[2]!.connectString))
            _ = try await reader.sync(ZNodePath("/fromLeader"))
            #expect(try await reader.getData(ZNodePath("/fromLeader")).data == Array("L".utf8))
            await reader.close()

            // Sessions: the leader alone expires them. A client on an Apache follower that vanishes without
            // closing loses its ephemeral after its timeout; a live idle client keeps its own.
            var liveConfiguration = try ZooKeeperConfiguration(connectionString: mixed.apache[2]!.connectString)
            liveConfiguration.sessionTimeout = .milliseconds(1500)
            let live = try await ZooKeeperClient.connect(liveConfiguration)
            try await live.create(ZNodePath("/alive"), mode: .ephemeral)
            try Self.createOrphan("/orphan", port: mixed.apache[1]!.port)
            #expect(leader.withDatabase { $0.tree.node("/orphan") != nil } == true)
            try await eventually(within: .seconds(10)) { leader.withDatabase { $0.tree.node("/orphan") == nil } == true }
            #expect(await neverHappens(within: .seconds(3)) { leader.withDatabase { $0.tree.node("/alive") == nil } == true },
                    "a live client's session is kept alive by its follower's touches")
            await live.close()
            // Every proposal carried our digest, after a SNAP of our seeded history, expiry closes included.
            for node in mixed.apache.values {
                #expect(try MixedEnsembleDigestTests.mismatches(port: node.port) == "0", "Apache follower \(node.port)")
            }

            leader.stop()
            _ = await run.value
        } catch {
            Issue.record("\(error)\n\(mixed.logs())")
        }
        await elector.stop()
    }
}
