import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// A member holds its committed tree once: while a role serves, the tree is the client side's (the role keeps
/// an empty stand-in), commits count toward snapshots there, the leader's SNAP for a learner is taken there,
/// and the tree comes back to the peer whenever the role ends — across leader changes and restarts.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct MemberDatabaseOwnershipTests {
    static let nodes = 60

    static func configuration() -> ServerConfiguration {
        var configuration = EmbeddedEnsemble.defaultConfiguration
        configuration.tickTime = 100
        configuration.initLimit = 10
        configuration.syncLimit = 5
        configuration.snapCount = 20  // a snapshot every 10–20 commits
        configuration.committedLogCount = 5  // a learner far behind gets a SNAP, not a DIFF…
        configuration.snapshotSizeFactor = -1  // …nor a DIFF from the txn log
        configuration.fourLetterWordWhitelist = ["*"]
        return configuration
    }

    /// Node counts: the role's (nil while it lends its tree to the client side) and the pipeline's.
    static func counts(_ ensemble: EmbeddedEnsemble, _ id: Int64) async -> (role: Int?, serving: Int)? {
        guard let member = ensemble.member(id), let peer = member.server.peer else { return nil }
        let role = peer.withDatabase { $0.nodeCount }
        return (role, await member.onPipeline(fallback: -1) { $0.database.nodeCount })
    }

    static func snapshotZxids(_ ensemble: EmbeddedEnsemble, _ id: Int64) throws -> [Int64] {
        let directory = PersistenceLayout.versionDirectory(of: ensemble.configurations[id]!.dataDirectory!)
        return try PersistenceLayout.files(in: directory, prefix: PersistenceLayout.snapshotPrefix).map(\.zxid)
    }

    /// The leader's `zk_snap_count` (learners it synchronised by SNAP).
    static func snapCount(_ ensemble: EmbeddedEnsemble, _ id: Int64) throws -> Int {
        let monitor = try sendFourLetterWord("mntr", host: "127.0.0.1", port: ensemble.configurations[id]!.clientPort, timeout: .seconds(2))
        let line = try #require(monitor.split(separator: "\n").first { $0.hasPrefix("zk_snap_count\t") })
        return try #require(Int(line.dropFirst("zk_snap_count\t".count)))
    }

    static func client(_ ensemble: EmbeddedEnsemble, _ members: [Int64]) async throws -> ZooKeeperClient {
        var configuration = try ZooKeeperConfiguration(connectionString: ensemble.connectString(members: members))
        configuration.sessionTimeout = .seconds(10)
        return try await ZooKeeperClient.connect(configuration)
    }

    /// Every member that runs has `/n0`…`/n(count-1)` (read after a `sync` through that member).
    static func expectEveryMemberHas(_ count: Int, _ ensemble: EmbeddedEnsemble) async throws {
        for id in ensemble.ids where ensemble.member(id) != nil {
            let reader = try await client(ensemble, [id])
            _ = try await reader.sync("/")
            let children = try await reader.getChildren("/").filter { $0.hasPrefix("n") }
            #expect(children.count == count, "member \(id) has \(children.count) of \(count) nodes")
            await reader.close()
        }
    }

    @Test func theTreeIsHeldOnceAndComesBackWhenRolesEnd() async throws {
        try await withEmbeddedEnsemble(configuration: Self.configuration()) { ensemble in
            let leader = try await ensemble.waitForLeader()
            let writer = try await Self.client(ensemble, ensemble.ids.filter { $0 != leader })
            for index in 0..<Self.nodes { try await writer.create(try ZNodePath("/n\(index)"), data: [UInt8](repeating: 7, count: 100)) }
            _ = try await writer.sync("/")

            let empty = ZooKeeperDatabase().nodeCount
            for id in ensemble.ids {
                try await eventually(within: .seconds(10)) { await Self.counts(ensemble, id)?.serving ?? 0 >= Self.nodes + empty }
                let counts = try #require(await Self.counts(ensemble, id))
                #expect(counts.role == nil, "member \(id): the role holds \(counts.role ?? 0) nodes of its own while serving")
                // Snapshots come from the client side now: 60 commits with snapCount 20 took at least one.
                #expect(try Self.snapshotZxids(ensemble, id).contains { $0 > 0 }, "member \(id) took no snapshot")
            }

            // The leader goes: every member gets its tree back from its client side for the election, and the
            // new leader leads from it.
            await ensemble.stop(member: leader)
            let second = try await ensemble.waitForLeader()
            #expect(second != leader)
            try await eventually(within: .seconds(10)) {
                do {
                    try await writer.create(try ZNodePath("/n\(Self.nodes)"))
                    return true
                } catch let error as ZooKeeperError where error.isRetryable {
                    return (try? await writer.exists(try ZNodePath("/n\(Self.nodes)"))) != nil
                }
            }
            try await Self.expectEveryMemberHas(Self.nodes + 1, ensemble)

            // The old leader comes back with no data at all: far behind the committed log, it gets a SNAP taken
            // from the new leader's client side.
            let directory = PersistenceLayout.versionDirectory(of: ensemble.configurations[leader]!.dataDirectory!)
            for file in try FileManager.default.contentsOfDirectory(atPath: directory) {
                try FileManager.default.removeItem(atPath: directory + "/" + file)
            }
            let snapsBefore = try Self.snapCount(ensemble, second)
            try await ensemble.start(member: leader)
            #expect(try await ensemble.waitForLeader() == second)
            #expect(try Self.snapCount(ensemble, second) > snapsBefore, "the returning member was synchronised by SNAP")
            try await Self.expectEveryMemberHas(Self.nodes + 1, ensemble)
            let counts = try #require(await Self.counts(ensemble, leader))
            #expect(counts.role == nil && counts.serving >= Self.nodes + 1 + empty - 1)
            await writer.close()
        }
    }
}
