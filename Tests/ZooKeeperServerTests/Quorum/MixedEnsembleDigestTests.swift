import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperPOSIX
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// The tree digest across implementations: whoever leads, after a workload of every kind of write, every
/// Apache 3.8 member's `mntr` shows `zk_digest_mismatches_count 0` and so does ours, and our member did
/// compare digests (so "0" is not "nothing compared").
@Suite(.serialized, .timeLimit(.minutes(4)),
       .enabled(if: ApacheZooKeeper.isInstalled, Comment(rawValue: ApacheZooKeeper.notInstalledMessage)))
struct MixedEnsembleDigestTests {
    typealias Mixed = MixedEnsembleClientTests.Mixed

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Creates (plain, sequential, ephemeral, under /zookeeper), sets, deletes, an ACL change, multis that
    /// succeed and fail, failed single writes and a session close that deletes ephemerals. Returns the
    /// number of transactions it made (at least).
    static func workload(_ a: ZooKeeperClient, _ b: ZooKeeperClient, ephemeral: ZooKeeperClient) async throws -> Int {
        var writes = 0
        try await a.create("/dg", data: bytes("root"))
        writes += 1
        for index in 0..<8 {
            try await (index.isMultiple(of: 2) ? a : b).create(try ZNodePath("/dg/n\(index)"), data: bytes("v\(index)"))
            writes += 1
        }
        for _ in 0..<3 {
            _ = try await b.create("/dg/seq-", data: bytes("s"), mode: .persistentSequential)
            writes += 1
        }
        for index in 0..<8 {
            _ = try await (index.isMultiple(of: 2) ? b : a).setData(try ZNodePath("/dg/n\(index)"), data: bytes(String(repeating: "w", count: index * 10)))
            writes += 1
        }
        try await a.delete("/dg/n0")
        try await b.delete("/dg/n1")
        _ = try await a.setACL("/dg/n2", acl: .openACLUnsafe)
        _ = try await a.multi([.create("/dg/m1", data: bytes("m")), .setData("/dg/n3", data: bytes("x")), .delete("/dg/n4")])
        writes += 4
        // Failed writes still make transactions (error txns) that carry a digest.
        _ = try? await b.multi([.create("/dg/m2"), .delete("/dg/missing")])
        _ = try? await a.create("/dg/n2")
        writes += 2
        // A node below /zookeeper/ (left out of the digest) changes /zookeeper's stat (counted).
        try await a.create("/zookeeper/dg", data: bytes("z"))
        _ = try await b.setData("/zookeeper/dg", data: bytes("zz"))
        writes += 2
        // Ephemerals removed by the session's close.
        try await ephemeral.create("/dg/e1", mode: .ephemeral)
        try await ephemeral.create("/dg/e2", data: bytes("e"), mode: .ephemeral)
        await ephemeral.close()
        writes += 3
        try await b.create("/dg/last", data: bytes("end"))
        writes += 1
        return writes
    }

    /// `zk_digest_mismatches_count` from a member's `mntr`.
    static func mismatches(port: Int) throws -> String? {
        let text = try sendFourLetterWord("mntr", host: "127.0.0.1", port: port, timeout: .seconds(5))
        return text.split(separator: "\n").first { $0.hasPrefix("zk_digest_mismatches_count\t") }
            .map { String($0.dropFirst("zk_digest_mismatches_count\t".count)) }
    }

    /// Our member's digest statistics (its serving database), read on its pipeline thread.
    static func statistics(_ server: ZooKeeperServer) async -> DigestStatistics? {
        await withCheckedContinuation { (continuation: CheckedContinuation<DigestStatistics?, Never>) in
            let submitted = server.onPipeline { state in continuation.resume(returning: state.database.tree.digestStatistics) }
            if !submitted { continuation.resume(returning: nil) }
        }
    }

    /// Waits until every member holds `/dg/last` (a sync first: the write went through another member).
    static func settle(_ clients: [ZooKeeperClient]) async throws {
        for client in clients {
            _ = try await client.sync("/dg/last")
            #expect(try await client.exists("/dg/last") != nil)
        }
    }

    /// We lead; two Apache followers apply our proposals (and our DIFF/SNAP) and find every digest right.
    @Test func apacheFollowersFindOurDigestsRight() async throws {
        let mixed = try Mixed(ours: 3, apacheReady: ["follower"])
        do {
            let apachePorts = try await mixed.startLedByOurs()
            let onApache = try await mixed.client(ports: [apachePorts[0]])
            let onOurs = try await mixed.client(ports: [mixed.ourPort])
            let onOther = try await mixed.client(ports: [apachePorts[1]])
            let ephemeral = try await mixed.client(ports: [apachePorts[1]])
            let writes = try await Self.workload(onApache, onOurs, ephemeral: ephemeral)
            try await Self.settle([onApache, onOurs, onOther])

            for port in apachePorts {
                #expect(try Self.mismatches(port: port) == "0", "Apache follower on \(port)")
            }
            #expect(try Self.mismatches(port: mixed.ourPort) == "0")
            let ours = try #require(await Self.statistics(mixed.server))
            #expect(ours.mismatches == 0)
            #expect(ours.checked >= Int64(writes), "our leader compared its own committed digests: \(ours)")

            // A DIFF sync carries digests too: a follower that missed writes gets them from our leader as
            // PROPOSAL + COMMIT pairs, and checks them (a fresh JVM: its count covers only what follows).
            await onOther.close()
            let rejoining = mixed.apache[mixed.apache.keys.sorted()[1]]!
            try await rejoining.stop()
            for index in 0..<5 { try await onOurs.create(try ZNodePath("/dg/missed\(index)"), data: Self.bytes("m\(index)")) }
            _ = try await onApache.setData("/dg/n2", data: Self.bytes("missed"))
            try await onOurs.delete("/dg/missed0")
            try await rejoining.start()
            try await eventually(within: .seconds(30)) { ApacheFollowersInteropTests.mode(rejoining) == "follower" }
            let afterDiff = try await mixed.client(ports: [rejoining.port])
            _ = try await afterDiff.sync("/dg/missed4")
            #expect(try await afterDiff.getData("/dg/n2").data == Self.bytes("missed"))
            try await afterDiff.create("/dg/after-diff")
            #expect(try Self.mismatches(port: rejoining.port) == "0", "the rejoined Apache follower")
            #expect(try Self.mismatches(port: apachePorts[0]) == "0")
            for client in [onApache, onOurs, afterDiff] { await client.close() }
        } catch {
            Issue.record("\(error)\n\(mixed.logs())")
        }
        await mixed.cleanup()
    }

    /// Apache leads; our follower checks the Apache leader's digests on every commit (and its SNAP/DIFF sync).
    @Test func ourFollowerFindsApacheDigestsRight() async throws {
        let mixed = try Mixed(ours: 1, apacheReady: ["leader", "follower"])
        do {
            try await mixed.startApache()
            let apachePorts = mixed.apache.keys.sorted().map { mixed.apache[$0]!.port }
            // History before we join, so our sync has transactions to check too.
            let early = try await mixed.client(ports: [apachePorts[1]])
            try await early.create("/before", data: Self.bytes("b"))
            try await mixed.server.start()
            try await eventually(within: .seconds(30)) { mixed.ourMode() == "follower" }
            let onOurs = try await mixed.client(ports: [mixed.ourPort])
            let onApache = try await mixed.client(ports: [apachePorts[0]])
            let ephemeral = try await mixed.client(ports: [mixed.ourPort])
            let writes = try await Self.workload(onOurs, onApache, ephemeral: ephemeral)
            try await Self.settle([onOurs, onApache, early])

            for port in apachePorts {
                #expect(try Self.mismatches(port: port) == "0", "Apache member on \(port)")
            }
            #expect(try Self.mismatches(port: mixed.ourPort) == "0")
            let ours = try #require(await Self.statistics(mixed.server))
            #expect(ours.mismatches == 0, "\(ours)")
            #expect(ours.checked >= Int64(writes), "every committed txn's digest was compared: \(ours)")
            for client in [onOurs, onApache, early] { await client.close() }
        } catch {
            Issue.record("\(error)\n\(mixed.logs())")
        }
        await mixed.cleanup()
    }
}
