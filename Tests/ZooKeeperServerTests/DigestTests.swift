import Testing
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// The tree digest (Apache 3.8's `DigestCalculator` + `NodeHashMapImpl`): golden values observed on a live
/// Apache 3.8.0 ensemble, the incremental sum against a full recount, and the comparison on apply.
@Suite struct DigestTests {
    // Observed (quorum facts, appendix A.7): the PROPOSALs of a fresh ensemble's first two txns.
    static let createSessionZxid: Int64 = 0x1_0000_0001
    static let createSessionTime: Int64 = 0x1a2_4204_057c
    static let createSessionDigest: Int64 = 0x51c6_d660
    static let createFooZxid: Int64 = 0x1_0000_0002
    static let createFooTime: Int64 = 0x1a2_4204_0b76
    static let createFooDigest: Int64 = 0x1_5f3e_5b17
    static let session: Int64 = 0x0100_0013_6131_0000

    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.filter { !$0.isWhitespace && $0 != "|" })
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }

    @Test func crc32IsZlibs() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        // Long input: the slice-by-8 path against the byte-at-a-time one.
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var slow = CRC32.initial
        for byte in bytes { slow = (slow >> 8) ^ CRC32.tables[Int((slow ^ UInt32(byte)) & 0xFF)] }
        #expect(CRC32.checksum(bytes) == ~slow)
    }

    @Test func nodeDigestLayoutAndExclusions() {
        let stat = DataNode.newStat(zxid: 5, time: 9, ephemeralOwner: 0)
        // "/" hashes as "", Apache's alias of the root.
        #expect(DigestCalculator.digest(path: "/", data: [], stat: stat) == UInt64(CRC32.checksum([UInt8](repeating: 0, count: 0) + Self.statBlock(stat))))
        #expect(DigestCalculator.digest(path: "/zookeeper/quota", data: [], stat: stat) == 0)
        #expect(DigestCalculator.digest(path: "/zookeeper/anything", data: [1], stat: stat) == 0)
        #expect(DigestCalculator.digest(path: "/zookeeper", data: [], stat: stat) != 0)
        #expect(DigestCalculator.digest(path: "/zookeeperx", data: [], stat: stat) != 0)
        #expect(DigestCalculator.digest(path: "/a", data: [1, 2], stat: stat)
                == UInt64(CRC32.checksum(Array("/a".utf8) + [1, 2] + Self.statBlock(stat))))
    }

    /// czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, big-endian.
    static func statBlock(_ stat: StatPersisted) -> [UInt8] {
        var writer = JuteWriter()
        for value in [stat.czxid, stat.mzxid, stat.pzxid, stat.ctime, stat.mtime] { writer.write(value) }
        for value in [stat.version, stat.cversion, stat.aversion] { writer.write(value) }
        writer.write(stat.ephemeralOwner)
        return writer.bytes
    }

    @Test func goldenDigestsOfApacheProposals() throws {
        var database = ZooKeeperDatabase()
        #expect(database.tree.treeDigest == Self.createSessionDigest, "a fresh tree: the root and /zookeeper")
        let createSession = database.createSession(sessionId: Self.session, timeout: 10_000, zxid: Self.createSessionZxid,
                                                   now: Self.createSessionTime)
        #expect(createSession.digest == TxnDigest(version: 2, treeDigest: Self.createSessionDigest))
        // Byte for byte the PROPOSAL data Apache's leader sent for it.
        #expect(createSession.encode() == Self.hex(
            "0100001361310000 00000000 0000000100000001 000001a24204057c fffffff6 | 00002710 | 00000002 0000000051c6d660"))

        let create = CreateRequest(path: "/foo", data: Array("hello".utf8), acl: .openACLUnsafe, flags: 0)
        let result = database.process(
            ClientRequest(sessionId: Self.session, cxid: 1, opCode: .create, body: create.juteBytes(), authIds: []),
            zxid: Self.createFooZxid, now: Self.createFooTime)
        #expect(result.txn?.digest == TxnDigest(version: 2, treeDigest: Self.createFooDigest))
        #expect(result.txn.map { Array($0.encode().suffix(12)) } == Self.hex("00000002 000000015f3e5b17"))
    }

    @Test func followerDecodesAndChecksTheGoldenProposal() throws {
        let data = Self.hex(
            "0100001361310000 00000000 0000000100000001 000001a24204057c fffffff6 | 00002710 | 00000002 0000000051c6d660")
        let txn = try LoggedTxn(decoding: data)
        #expect(txn.digest == TxnDigest(version: 2, treeDigest: Self.createSessionDigest))
        #expect(txn.encode() == data)
        var database = ZooKeeperDatabase()
        database.replay(txn)
        #expect(database.tree.digestStatistics.checked == 1)
        #expect(database.tree.digestStatistics.mismatches == 0)
    }

    /// A deliberately wrong digest is counted (and only counted); other versions and absent digests are not compared.
    @Test func mismatchesAreCountedAndSkipsFollowApache() {
        var h = DatabaseHarness()
        h.create("/a", "x")
        h.setData("/a", "y")
        h.create("/a/b", "z")
        var follower = ZooKeeperDatabase()
        follower.replay(h.log[0])
        var wrong = h.log[1]
        wrong.digest?.treeDigest &+= 1
        follower.replay(wrong)
        var otherVersion = h.log[2]
        otherVersion.digest?.version = 1
        otherVersion.digest?.treeDigest = 0
        follower.replay(otherVersion)
        #expect(follower.tree.digestStatistics.checked == 2)
        #expect(follower.tree.digestStatistics.mismatches == 1)
        #expect(follower.tree.digestStatistics.lastMismatch?.zxid == h.log[1].zxid)
        #expect(follower.tree.nodes == h.db.tree.nodes, "nothing else happens on a mismatch")
        #expect(follower.tree.digestSum == h.db.tree.digestSum)

        var noDigest = ZooKeeperDatabase()
        for txn in h.log { noDigest.replay(txn.withDigest(nil)) }
        #expect(noDigest.tree.digestStatistics.checked == 0)

        var disabled = ZooKeeperDatabase()
        disabled.configure(extendedTypesEnabled: false, enforceQuota: false, digestEnabled: false)
        for txn in h.log { disabled.replay(txn) }
        #expect(disabled.tree.digestStatistics.checked == 0 && disabled.tree.treeDigest == 0)
        // A leader with digests off sends none.
        var off = DatabaseHarness()
        off.db.configure(extendedTypesEnabled: false, enforceQuota: false, digestEnabled: false)
        #expect(off.create("/q").txn?.digest == nil)
        // Turning digests on hashes the tree once.
        disabled.configure(extendedTypesEnabled: false, enforceQuota: false, digestEnabled: true)
        #expect(disabled.tree.digestSum == h.db.tree.digestSum)
    }

    /// The incremental digest equals a full recount after every step of seeded random workloads covering every
    /// txn type (creates of each mode, sets, deletes, ACLs, multis that succeed and fail, session closes).
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func incrementalEqualsRecount(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var h = DatabaseHarness(extendedTypesEnabled: true)
        var replica = ZooKeeperDatabase(extendedTypesEnabled: true)
        let names = ["a", "b", "c", "d"]
        func randomPath(_ random: inout SplitMix64) -> String {
            let depth = Int(random.next() % 3) + 1
            return "/" + (0..<depth).map { _ in names[Int(random.next() % UInt64(names.count))] }.joined(separator: "/")
        }
        let modes: [CreateMode] = [.persistent, .ephemeral, .persistentSequential, .container, .persistentWithTTL]
        for step in 0..<400 {
            h.now += 1
            let path = randomPath(&random)
            let session = Int64(random.next() % 3) + 1
            switch random.next() % 8 {
            case 0, 1:
                let mode = modes[Int(random.next() % UInt64(modes.count))]
                if mode == .persistentWithTTL {
                    h.createTTL(path, ttl: 1000, session: session)
                } else {
                    h.create(path, "d\(step)", mode: mode, session: session)
                }
            case 2: h.setData(path, String(repeating: "v", count: Int(random.next() % 40)))
            case 3: h.delete(path)
            case 4: h.send(.setACL, SetACLRequest(path: path, acl: .readACLUnsafe + .openACLUnsafe, version: -1))
            case 5:
                let ops: [MultiOperation] = [
                    .create(CreateRequest(path: path, data: [1], acl: .openACLUnsafe, flags: 0)),
                    .setData(SetDataRequest(path: randomPath(&random), data: [2], version: -1)),
                    .delete(DeleteRequest(path: randomPath(&random), version: -1)),
                ]
                h.send(.multi, MultiOperationRecord(ops: ops), session: session)
            case 6: h.send(.closeSession, bytes: [], session: session)
            default: h.setData("/", "root\(step)")
            }
            #expect(h.db.tree.digestSum == DigestCalculator.treeDigest(h.db.tree.nodes), "seed \(seed) step \(step)")
        }
        // A replica applying the log checks every digest and agrees with all of them.
        for txn in h.log { replica.replay(txn) }
        #expect(replica.tree.digestStatistics.checked == Int64(h.log.count))
        #expect(replica.tree.digestStatistics.mismatches == 0)
        #expect(h.log.allSatisfy { $0.digest != nil })
    }

    /// Snapshot files carry `ZxidDigest` after the first seal, then a second seal (`FileSnap.serialize`); files
    /// without it still read; loading compares it with the loaded tree.
    @Test func snapshotFilesCarryAndCheckTheDigest() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = SnapshotStore(directory: dir.dataDir)
        var h = DatabaseHarness()
        h.create("/s", "snap")
        h.create("/s/t")
        let digest = try #require(h.db.tree.snapshotDigest)
        #expect(digest == SnapshotDigest(zxid: 2, version: 2, digest: h.db.tree.treeDigest))
        let tree = h.db.snapshot()
        try store.write(zxid: 2, tree: tree, digest: digest)
        try store.write(zxid: 1, tree: [1])
        let bytes = try readFile(dir.snapDirectory + "/snapshot.2")
        var expected: [UInt8] = Array("ZKSN".utf8) + [0, 0, 0, 2] + [UInt8](repeating: 0, count: 8) + tree
        var seal = JuteWriter()
        seal.write(Int64(Adler32.checksum(expected)))
        seal.writeString("/")
        seal.write(digest.zxid)
        seal.write(digest.version)
        seal.write(digest.digest)
        expected += seal.bytes
        var second = JuteWriter()
        second.write(Int64(Adler32.checksum(expected)))
        second.writeString("/")
        expected += second.bytes
        #expect(bytes == expected)
        let newest = try #require(try store.newestValid())
        #expect(newest.tree == tree && newest.digest == digest)
        #expect(try store.readContents(.init(zxid: 1, path: dir.snapDirectory + "/snapshot.1")) == ([1], nil))

        var loaded = try ZooKeeperDatabase(snapshot: newest.tree)
        loaded.tree.compareSnapshotDigest(digest)
        #expect(loaded.tree.digestStatistics.checked == 1 && loaded.tree.digestStatistics.mismatches == 0)
        var wrong = digest
        wrong.digest &+= 1
        loaded.tree.compareSnapshotDigest(wrong)
        #expect(loaded.tree.digestStatistics.mismatches == 1)
        var otherZxid = digest
        otherZxid.zxid = 1
        loaded.tree.compareSnapshotDigest(otherZxid)
        #expect(loaded.tree.digestStatistics.checked == 2, "a digest of another zxid is not compared")
    }

    @Test func mismatchLogIsRateLimitedAsApaches() {
        var log = DigestMismatchLog()
        var statistics = DigestStatistics()
        #expect(log.report(statistics, now: 0).isEmpty)
        statistics.mismatches = 1
        statistics.lastMismatch = DigestMismatch(zxid: 0x100000005, expected: 1, actual: 2)
        let first = log.report(statistics, now: 0)
        #expect(first.count == 2)
        #expect(first.last == .warning("Message:Digests are not matching. Value is Zxid. Value:\(0x100000005)"))
        statistics.mismatches = 3
        #expect(log.report(statistics, now: 1000).isEmpty, "within the interval: counted, not logged")
        statistics.mismatches = 4
        statistics.lastMismatch?.zxid = 0x100000009
        #expect(log.report(statistics, now: DigestMismatchLog.interval)
                == [.warning("[3 times] Message: Digests are not matching. Value is Zxid. Last value:\(0x100000009)")])
    }

    @Test func zooCfgDigestKeys() throws {
        #expect(try ZooCfgParser.parse("dataDir=/tmp/x\n").configuration.digestEnabled)
        #expect(try !ZooCfgParser.parse("digest.enabled=false\n").configuration.digestEnabled)
        #expect(try !ZooCfgParser.parse("zookeeper.digest.enabled=false\n").configuration.digestEnabled)
        #expect(throws: ZooCfgParser.ParseError.self) { try ZooCfgParser.parse("digest.enabled=maybe\n") }
    }
}
