import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

@Suite struct SnapshotReplayTests {
    /// A workload touching every txn kind.
    static func workload() -> DatabaseHarness {
        var h = DatabaseHarness(extendedTypesEnabled: true)
        h.log.append(h.db.createSession(sessionId: 0x42, timeout: 6_000, zxid: h.nextZxid, now: h.now))
        h.nextZxid += 1
        h.create("/a", "x")
        h.create("/a/s-", mode: .persistentSequential, opCode: .create2)
        h.create("/a/e", mode: .ephemeral, session: 0x42)
        h.create("/a/gone", mode: .ephemeral, session: 0x43)
        h.create("/c", mode: .container, opCode: .createContainer)
        h.createTTL("/t", ttl: 99)
        h.setData("/a", "yy")
        h.send(.setACL, SetACLRequest(path: "/a", acl: .readACLUnsafe, version: 0))
        // A check txn outside a multi: no longer logged (a lone check is refused), but logs written by
        // earlier versions hold them and must still replay.
        let check = LoggedTxn(header: TxnHeader(clientId: 1, cxid: 7, zxid: h.nextZxid, time: h.now, type: OpCode.check.rawValue),
                              body: .check(CheckVersionTxn(path: "/a", version: 1)))
        h.db.replay(check)
        h.log.append(check)
        h.nextZxid += 1
        h.create("/a/s-", mode: .persistentSequential)
        h.delete("/a/s-0000000000")
        h.create("/a")  // error txn
        h.send(.multi, MultiOperationRecord(ops: [
            .create(CreateRequest(path: "/m", data: [], acl: .openACLUnsafe, flags: 0)),
            .setData(SetDataRequest(path: "/m", data: [1], version: 0)),
        ]))
        h.send(.multi, MultiOperationRecord(ops: [
            .create(CreateRequest(path: "/n", data: [], acl: .openACLUnsafe, flags: 0)),
            .delete(DeleteRequest(path: "/missing", version: -1)),
        ]))
        h.create("/c/k")
        h.delete("/c/k")
        h.db.process(ZooKeeperDatabase.deleteContainerRequest(path: "/c"), zxid: h.nextZxid, now: h.now).txn.map { h.log.append($0) }
        h.nextZxid += 1
        h.log.append(h.db.closeSession(sessionId: 0x43, zxid: h.nextZxid, now: h.now).txn!)
        h.nextZxid += 1
        return h
    }

    @Test func replayingTheLogReproducesTheTree() throws {
        let h = Self.workload()
        var replica = ZooKeeperDatabase(extendedTypesEnabled: true)
        for txn in h.log {
            let decoded = try LoggedTxn(decoding: txn.encode())
            #expect(decoded == txn)
            replica.replay(decoded)
        }
        #expect(replica.tree.nodes == h.db.tree.nodes)
        #expect(replica.lastProcessedZxid == h.db.lastProcessedZxid)
        #expect(replica.sessions == h.db.sessions)
        #expect(replica.tree.ephemerals == h.db.tree.ephemerals)
        #expect(replica.tree.ttls == ["/t"] && replica.tree.containers.isEmpty)
        #expect(Set(h.log.map(\.body.type)) == [.createSession, .create, .create2, .createContainer, .createTTL, .setData,
                                                 .setACL, .check, .delete, .error, .multi, .deleteContainer, .closeSession])
    }

    @Test func snapshotRoundTrip() throws {
        var h = Self.workload()
        h.create("/zookeeper/quota/a")
        h.create("/zookeeper/quota/a/zookeeper_limits", "count=10,bytes=-1")
        h.create("/zookeeper/quota/a/zookeeper_stats", "")
        let bytes = h.db.snapshot()
        var restored = try ZooKeeperDatabase(snapshot: bytes, extendedTypesEnabled: true)
        #expect(restored.tree.nodes == h.db.tree.nodes)
        #expect(restored.lastProcessedZxid == h.db.lastProcessedZxid)
        #expect(restored.sessions == [0x42: 6_000])
        #expect(restored.tree.ephemerals == h.db.tree.ephemerals)
        #expect(restored.tree.ttls == h.db.tree.ttls && restored.tree.quotaPaths == ["/a"])
        #expect(restored.approximateDataSize == h.db.approximateDataSize && restored.nodeCount == h.db.nodeCount)
        #expect(restored.snapshot() == bytes)
        // The restored tree keeps naming where the original left off.
        let next = restored.process(
            ClientRequest(sessionId: 1, cxid: 1, opCode: .create, body: CreateRequest(
                path: "/a/s-", data: [], acl: .openACLUnsafe, flags: 2).juteBytes(), authIds: []),
            zxid: h.nextZxid, now: h.now)
        #expect(next.createdPath == h.create("/a/s-", mode: .persistentSequential).createdPath)
        #expect(throws: JuteDecodingError.self) { try ZooKeeperDatabase(snapshot: Array(bytes.dropLast())) }
    }

    @Test func txnEncodingMatchesApacheLayout() throws {
        let txn = LoggedTxn(
            header: TxnHeader(clientId: 1, cxid: 2, zxid: 3, time: 4, type: OpCode.delete.rawValue),
            body: .delete(DeleteTxn(path: "/a")))
        #expect(txn.encode() == TxnHeader(clientId: 1, cxid: 2, zxid: 3, time: 4, type: 2).juteBytes() + [0, 0, 0, 2, 0x2F, 0x61])
        // A trailing TxnDigest (3.6+ logs) is tolerated.
        let withDigest = txn.encode() + TxnDigest(version: 2, treeDigest: 99).juteBytes()
        #expect(try LoggedTxn(decoding: withDigest) == txn)
    }
}
