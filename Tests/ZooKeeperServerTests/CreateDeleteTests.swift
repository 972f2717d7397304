import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

@Suite struct InitialTreeTests {
    @Test func freshTreeMatchesApacheStandalone() throws {
        var h = DatabaseHarness()
        #expect(h.db.nodeCount == 5)  // Apache counts "/" twice ("" alias)
        #expect(h.db.approximateDataSize == 44)
        #expect(h.children("/") == ["zookeeper"])
        #expect(h.children("/zookeeper") == ["config", "quota"])
        #expect(h.stat("/")?.cversion == -1)
        #expect(h.stat("/zookeeper")?.cversion == -2)
        #expect(h.stat("/zookeeper/config")?.aversion == -1)
        #expect(h.stat("/zookeeper/quota") == Stat())
        let acl = h.send(.getACL, GetACLRequest(path: "/zookeeper/config"))
        #expect(try GetACLResponse(juteBytes: acl.response).acl == .readACLUnsafe)
        #expect(h.getData("/zookeeper/config").1?.data == [])
        // Reads never log and answer the last processed zxid.
        #expect(h.log.isEmpty && h.db.lastProcessedZxid == 0)
        // "" is Apache's alias of the root.
        #expect(h.getData("").0 == .ok)
    }

    @Test func getAllChildrenNumber() {
        var h = DatabaseHarness()
        h.create("/a")
        h.create("/a/b")
        h.create("/a/b/c")
        func count(_ path: String) -> Int32? {
            let r = h.send(.getAllChildrenNumber, GetAllChildrenNumberRequest(path: path))
            return r.err == .ok ? try? GetAllChildrenNumberResponse(juteBytes: r.response).totalNumber : nil
        }
        #expect(count("/a") == 2)
        #expect(count("/") == 6)  // nodes.size() - 2, /zookeeper subtree included
        #expect(count("/nope") == nil)
    }
}

@Suite struct CreateTests {
    @Test func createAndCreate2Responses() throws {
        var h = DatabaseHarness()
        h.now = 5_000
        let plain = h.create("/a", "x")
        #expect(plain.err == .ok && plain.replyZxid == 1)
        #expect(try CreateResponse(juteBytes: plain.response).path == "/a")
        let two = h.create("/b", "yy", opCode: .create2)
        let response = try Create2Response(juteBytes: two.response)
        #expect(response.path == "/b")
        #expect(response.stat == Stat(czxid: 2, mzxid: 2, ctime: 5_000, mtime: 5_000, dataLength: 2, pzxid: 2))
        let rootStat = h.stat("/")
        let root = try #require(rootStat)
        #expect(root.pzxid == 2 && root.numChildren == 3 && root.cversion == 1)
        #expect(h.log.map(\.header.type) == [OpCode.create.rawValue, OpCode.create2.rawValue])
    }

    @Test func failedCreatesLogAnErrorTxnAndConsumeTheirZxid() {
        var h = DatabaseHarness()
        h.create("/a")
        let dup = h.create("/a")
        #expect(dup.err == .nodeExists && dup.response.isEmpty)
        #expect(dup.replyZxid == 2 && h.db.lastProcessedZxid == 2)
        #expect(dup.txn?.header.type == OpCode.error.rawValue)
        #expect(dup.txn?.body == .error(ErrorTxn(err: ZooKeeperErrorCode.nodeExists.rawValue)))
        #expect(h.create("/x/y").err == .noNode)
        #expect(h.create("noslash").err == .badArguments)
        #expect(h.create("/a/").err == .badArguments)       // parent exists, path invalid
        #expect(h.create("/q/").err == .noNode)             // parent looked up before the path is validated
        #expect(h.create("/").err == .nodeExists)
        #expect(h.create("/b", acl: []).err == .invalidACL)
        #expect(h.create("/b", acl: [ACL(perms: .all, id: Id(scheme: "foo", id: "x"))]).err == .invalidACL)
        #expect(h.send(.create, CreateRequest(path: "/b", data: [], acl: .openACLUnsafe, flags: 9)).err == .badArguments)
        #expect(h.send(.create, bytes: [1, 2, 3]).err == .marshallingError)
        #expect(h.log.count == 11 && h.log.dropFirst().allSatisfy { $0.header.type == -1 })
    }

    @Test func sequentialNamesUseThePersistedCversion() throws {
        var h = DatabaseHarness()
        h.create("/p")
        for _ in 0..<3 { h.create("/p/n-", mode: .persistentSequential) }
        h.delete("/p/n-0000000001")
        let fifth = h.create("/p/n-", mode: .persistentSequential)
        #expect(fifth.createdPath == "/p/n-0000000003")
        // Clients see cversion*2 - numChildren: persisted 4, 3 children → 5 (as observed on 3.8.0).
        let pStat = h.stat("/p")
        let stat = try #require(pStat)
        #expect(stat.cversion == 5 && stat.numChildren == 3)
        #expect(h.db.tree.node("/p")?.stat.cversion == 4)
        // A trailing slash is fine with a sequential suffix.
        #expect(h.create("/p/", mode: .persistentSequential).createdPath == "/p/0000000004")
        #expect(RequestPreparer.sequenceSuffix(-5) == "-000000005")
        #expect(RequestPreparer.sequenceSuffix(Int32.min) == "-2147483648")
        #expect(RequestPreparer.sequenceSuffix(42) == "0000000042")
    }

    @Test func ephemeralRules() throws {
        var h = DatabaseHarness()
        h.create("/e", mode: .ephemeral, session: 0x77)
        #expect(h.stat("/e")?.ephemeralOwner == 0x77)
        #expect(h.create("/e/child").err == .noChildrenForEphemerals)
        #expect(h.db.ephemeralCount == 1)
        let r = h.send(.getEphemerals, GetEphemeralsRequest(prefixPath: "/"), session: 0x77)
        #expect(try GetEphemeralsResponse(juteBytes: r.response).ephemerals == ["/e"])
        let none = h.send(.getEphemerals, GetEphemeralsRequest(prefixPath: "/x"), session: 0x77)
        #expect(try GetEphemeralsResponse(juteBytes: none.response).ephemerals == [])
    }

    @Test func containerAndTTLStatsHideTheOwner() throws {
        var h = DatabaseHarness(extendedTypesEnabled: true)
        let container = h.create("/c", mode: .container, opCode: .createContainer)
        #expect(try Create2Response(juteBytes: container.response).stat.ephemeralOwner == 0)
        #expect(h.db.tree.node("/c")?.stat.ephemeralOwner == EphemeralOwner.container)
        let ttl = h.createTTL("/t", ttl: 100)
        #expect(ttl.err == .ok)
        #expect(try Create2Response(juteBytes: ttl.response).stat.ephemeralOwner == 0)
        #expect(h.createTTL("/t2", ttl: 0).err == .badArguments)
        #expect(h.createTTL("/t3", ttl: EphemeralOwner.maxTTL + 1).err == .badArguments)
        #expect(h.createTTL("/t4", ttl: 5, mode: .persistent).err == .badArguments)
        var plain = DatabaseHarness()
        #expect(plain.createTTL("/t", ttl: 100).err == .unimplemented)
        #expect(plain.log.last?.header.type == -1)
    }
}

@Suite struct DeleteSetDataTests {
    @Test func deleteChecks() {
        var h = DatabaseHarness()
        h.create("/a")
        h.create("/a/b")
        #expect(h.delete("/a").err == .notEmpty)
        #expect(h.delete("/a/b", version: 3).err == .badVersion)
        #expect(h.delete("/zookeeper").err == .badArguments)
        #expect(h.delete("/zookeeper/quota").err == .badArguments)
        #expect(h.delete("/").err == .badArguments)
        #expect(h.delete("nope").err == .badArguments)
        #expect(h.delete("/nope").err == .noNode)
        let ok = h.delete("/a/b", version: 0)
        #expect(ok.err == .ok && ok.response.isEmpty)
        #expect(h.stat("/a")?.pzxid == ok.replyZxid)
    }

    @Test func setDataVersionsAndStat() throws {
        var h = DatabaseHarness()
        h.create("/a", "one")
        h.now = 9_000
        let set = h.setData("/a", "three", version: 0)
        let stat = try SetDataResponse(juteBytes: set.response).stat
        #expect(stat.version == 1 && stat.mtime == 9_000 && stat.mzxid == 2 && stat.czxid == 1 && stat.dataLength == 5)
        #expect(h.setData("/a", "x", version: 0).err == .badVersion)
        #expect(h.setData("/nope", "x").err == .noNode)
        #expect(h.setData("/a/", "x").err == .badArguments)
        #expect(h.db.approximateDataSize == 44 + 2 + 5)
    }

    @Test func standaloneCheckIsRefusedAndSyncAnswers() throws {
        var h = DatabaseHarness()
        h.create("/a")
        // Outside a multi a check is refused like an unknown opcode and logs nothing (Apache 3.9).
        for version: Int32 in [0, 4] {
            let check = h.send(.check, CheckVersionRequest(path: "/a", version: version))
            #expect(check.err == .unimplemented && check.closeConnection && check.txn == nil && check.response.isEmpty)
        }
        #expect(h.db.lastProcessedZxid == 1)
        let sync = h.send(.sync, SyncRequest(path: "/a"))
        #expect(try SyncResponse(juteBytes: sync.response).path == "/a" && sync.txn == nil)
    }

    @Test func unknownOpcodesAndReconfig() {
        var h = DatabaseHarness()
        let unknown = h.send(.init(rawValue: 77), bytes: [])
        #expect(unknown.err == .unimplemented && unknown.closeConnection && unknown.txn == nil)
        let reconfig = h.send(.reconfig, ReconfigRequest(joiningServers: "", leavingServers: "", newMembers: "", curConfigId: -1))
        #expect(reconfig.err == .reconfigDisabled && reconfig.txn?.header.type == -1)
        let ping = h.send(.ping, bytes: [])
        #expect(ping.err == .ok && ping.replyZxid == 1 && ping.txn == nil)
    }
}
