import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

@Suite struct MultiTests {
    func create(_ path: String, _ mode: CreateMode = .persistent) -> CreateRequest {
        CreateRequest(path: path, data: [], acl: .openACLUnsafe, flags: mode.rawValue)
    }

    @Test func successfulMultiAppliesEveryOpWithOneZxid() throws {
        var h = DatabaseHarness()
        h.create("/m")
        h.now = 2_000
        let r = h.send(.multi, MultiOperationRecord(ops: [
            .create(create("/m/a")), .create2(create("/m/s-", .persistentSequential)),
            .setData(SetDataRequest(path: "/m/a", data: [1], version: 0)), .check(CheckVersionRequest(path: "/m/a", version: 1)),
            .delete(DeleteRequest(path: "/m/a", version: 1)),
        ]))
        #expect(r.err == .ok && r.txn?.header.type == OpCode.multi.rawValue)
        let stat = Stat(czxid: 2, mzxid: 2, ctime: 2_000, mtime: 2_000, pzxid: 2)
        var setStat = Stat(czxid: 2, mzxid: 2, ctime: 2_000, mtime: 2_000, version: 1, dataLength: 1, pzxid: 2)
        setStat.version = 1
        let expected = MultiResponse(results: [
            .create(CreateResponse(path: "/m/a")), .create2(Create2Response(path: "/m/s-0000000001", stat: stat), opCode: .create2),
            .setData(SetDataResponse(stat: setStat)), .check, .delete,
        ])
        #expect(r.response == expected.juteBytes())
        #expect(h.children("/m") == ["s-0000000001"])
        #expect(h.db.lastProcessedZxid == 2)
    }

    @Test func failedMultiIsAllOrNothingWithPerOpResults() throws {
        var h = DatabaseHarness()
        h.create("/m")
        let before = h.nodes
        let r = h.send(.multi, MultiOperationRecord(ops: [
            .create(create("/m/a")), .create(create("/m/a/b")), .delete(DeleteRequest(path: "/m/nope", version: -1)),
            .setData(SetDataRequest(path: "/m", data: [], version: -1)),
        ]))
        #expect(r.err == .ok)  // a failed multi is still a successful RPC
        let expected = MultiResponse(results: [.error(.ok), .error(.ok), .error(.noNode), .error(.runtimeInconsistency)])
        #expect(r.response == expected.juteBytes())
        // The logged multi holds the prepared txns before the failure, then the error txns.
        guard case let .multi(bodies)? = r.txn?.body else { Issue.record("not a multi"); return }
        #expect(bodies.map(\.type) == [.create, .create, .error, .error])
        #expect(bodies[3] == .error(ErrorTxn(err: -2)))
        #expect(r.txn?.header.type == OpCode.multi.rawValue)
        #expect(h.nodes == before)
        #expect(h.db.lastProcessedZxid == 2 && r.replyZxid == 2)
    }

    @Test func containerAndTTLCreatesAnswerCreate2InAMulti() throws {
        var h = DatabaseHarness(extendedTypesEnabled: true)
        let r = h.send(.multi, MultiOperationRecord(ops: [
            .createContainer(create("/c", .container)),
            .createTTL(CreateTTLRequest(path: "/t", data: [], acl: .openACLUnsafe, flags: CreateMode.persistentWithTTL.rawValue, ttl: 10)),
        ]))
        let response = try MultiResponse(juteBytes: r.response)
        #expect(response.results.map(\.opCode) == [.create2, .create2])
        #expect(h.db.tree.containers == ["/c"] && h.db.tree.ttls == ["/t"])
    }

    @Test func readOpsInAWriteMultiAndMalformedMultisAreMarshallingErrors() {
        var h = DatabaseHarness()
        let r = h.send(.multi, MultiOperationRecord(ops: [.getData(GetDataRequest(path: "/", watch: false))]))
        #expect(r.err == .marshallingError && r.txn?.header.type == -1)
        #expect(h.send(.multi, bytes: [0, 0]).err == .marshallingError)
        let empty = h.send(.multi, MultiOperationRecord(ops: []))
        #expect(empty.err == .ok && empty.response == MultiResponse(results: []).juteBytes())
    }

    @Test func multiReadHasPerOpErrorsAndNoTxn() throws {
        var h = DatabaseHarness()
        h.create("/a", "x")
        let r = h.send(.multiRead, MultiOperationRecord(ops: [
            .getData(GetDataRequest(path: "/a", watch: true)), .getChildren(GetChildrenRequest(path: "/nope", watch: false)),
            .getChildren(GetChildrenRequest(path: "/", watch: false)),
        ]))
        #expect(r.txn == nil && r.err == .ok)
        let results = try MultiResponse(juteBytes: r.response).results
        guard case let .getData(data) = results[0] else { Issue.record("\(results)"); return }
        #expect(data.data == Array("x".utf8))
        #expect(results[1] == .error(.noNode))
        #expect(results[2] == .getChildren(GetChildrenResponse(children: ["a", "zookeeper"])))
        #expect(h.db.tree.dataWatches.mode(path: "/a", session: 1) == .standard)
        let bad = h.send(.multiRead, MultiOperationRecord(ops: [.delete(DeleteRequest(path: "/a", version: -1))]))
        #expect(bad.err == .marshallingError)
    }
}
