import ZooKeeperProtocol

/// The values `FixtureGenerator/GenerateJuteFixtures.java` serializes, rebuilt in Swift.
/// Each constant mirrors the Java constant of the same name.
enum JavaValues {
    static let uni = "/zk/ünïcødé/✓€日本"
    static let data: [UInt8] = [0, 1, 127, 128, 255, 122]
    static let empty: [UInt8] = []
    static let passwd: [UInt8] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0xfd, 0xfe, 0xff]
    static let stat = Stat(
        czxid: 1, mzxid: -2, ctime: 1_700_000_000_123, mtime: -1_700_000_000_456, version: -3, cversion: 4,
        aversion: -5, ephemeralOwner: .min, dataLength: 6, numChildren: -7, pzxid: .max
    )
    static let acls = [
        ACL(perms: Permissions(rawValue: 31), id: Id(scheme: "world", id: "anyone")),
        ACL(perms: Permissions(rawValue: -1), id: Id(scheme: "digest", id: "üser:hash✓")),
    ]
    static let connect = ConnectRequest(
        protocolVersion: 0, lastZxidSeen: 0x1234_5678_9ABC_DEF0, timeOut: 30000, sessionId: -0x0123_4567_89AB_CDF0,
        passwd: passwd, readOnly: true
    )
    static let connected = ConnectResponse(
        protocolVersion: 0, timeOut: 4000, sessionId: 0x1000_008a_8890_01d, passwd: passwd, readOnly: true
    )
    static let whoAmI = [
        ClientInfo(authScheme: "ip", user: "127.0.0.1"), ClientInfo(authScheme: "sasl", user: "bøb@EXAMPLE.COM"),
    ]

    /// Every case of the fixture file, by its name there.
    static let expectations: [String: JavaVectorExpectation] = {
        var table: [String: JavaVectorExpectation] = [:]
        func add<T: JuteCodable & Equatable>(_ name: String, _ value: T) { table[name] = .roundTrip(value) }

        // org.apache.zookeeper.data
        add("Id", Id(scheme: "digest", id: "üser:hash✓"))
        add("ACL", acls[1])
        add("Stat", stat)
        add(
            "StatPersisted",
            StatPersisted(
                czxid: -1, mzxid: 2, ctime: -3, mtime: 4, version: -5, cversion: 6, aversion: -7,
                ephemeralOwner: .min, pzxid: .max))
        add("ClientInfo", ClientInfo(authScheme: "sasl", user: "bøb@EXAMPLE.COM"))

        // org.apache.zookeeper.proto
        add("ConnectRequest", connect)
        var legacyConnect = connect
        legacyConnect.readOnly = false
        table["ConnectRequest#legacy"] = .decodes(legacyConnect, reencodedAs: { $0 + [0] })
        add("ConnectResponse", connected)
        var legacyConnected = connected
        legacyConnected.readOnly = false
        table["ConnectResponse#legacy"] = .decodes(legacyConnected, reencodedAs: { $0 + [0] })
        add(
            "SetWatches",
            SetWatches(relativeZxid: -1, dataWatches: ["/a", uni], existWatches: [], childWatches: ["/c"]))
        add(
            "SetWatches2",
            SetWatches2(
                relativeZxid: 0x1_0000_0002, dataWatches: ["/d"], existWatches: ["/e"], childWatches: [],
                persistentWatches: ["/p", uni], persistentRecursiveWatches: []))
        add("RequestHeader", RequestHeader(xid: -8, type: 101))
        add("MultiHeader", MultiHeader(type: -1, done: true, err: -1))
        add("AuthPacket", AuthPacket(type: 0, scheme: "digest", auth: Array("user:pässword".utf8)))
        add("ReplyHeader", ReplyHeader(xid: -2, zxid: 0x61, err: -101))
        add("GetDataRequest", GetDataRequest(path: "/qdemo", watch: true))
        add("SetDataRequest", SetDataRequest(path: uni, data: data, version: -1))
        add(
            "ReconfigRequest",
            ReconfigRequest(
                joiningServers: "server.1=host:2888:3888:participant;2181", leavingServers: "",
                newMembers: "server.5=ñ", curConfigId: -1))
        add("SetDataResponse", SetDataResponse(stat: stat))
        add("GetSASLRequest", GetSASLRequest(token: data))
        add("SetSASLRequest", SetSASLRequest(token: empty))
        add("SetSASLResponse", SetSASLResponse(token: data))
        add("CreateRequest", CreateRequest(path: uni, data: data, acl: acls, flags: 3))
        add("CreateTTLRequest", CreateTTLRequest(path: "/ttl", data: empty, acl: acls, flags: 5, ttl: 86_400_000))
        add("DeleteRequest", DeleteRequest(path: "/d", version: -1))
        add("GetChildrenRequest", GetChildrenRequest(path: "/", watch: false))
        add("GetAllChildrenNumberRequest", GetAllChildrenNumberRequest(path: "/zookeeper"))
        add("GetChildren2Request", GetChildren2Request(path: uni, watch: true))
        add("CheckVersionRequest", CheckVersionRequest(path: "/c", version: .max))
        add("GetMaxChildrenRequest", GetMaxChildrenRequest(path: "/m"))
        add("GetMaxChildrenResponse", GetMaxChildrenResponse(max: -1))
        add("SetMaxChildrenRequest", SetMaxChildrenRequest(path: "/m", max: 100))
        add("SyncRequest", SyncRequest(path: "/s"))
        add("SyncResponse", SyncResponse(path: uni))
        add("GetACLRequest", GetACLRequest(path: uni))
        add("SetACLRequest", SetACLRequest(path: "/a", acl: acls, version: -1))
        add("SetACLResponse", SetACLResponse(stat: stat))
        add("AddWatchRequest", AddWatchRequest(path: "/w", mode: 1))
        add("WatcherEvent", WatcherEvent(type: 4, state: 3, path: uni))
        add("ErrorResponse", ErrorResponse(err: -110))
        add("CreateResponse", CreateResponse(path: "/seq-0000000007"))
        add("Create2Response", Create2Response(path: "/seq--2147483648", stat: stat))
        add("ExistsRequest", ExistsRequest(path: "/e", watch: true))
        add("ExistsResponse", ExistsResponse(stat: stat))
        add("GetDataResponse", GetDataResponse(data: data, stat: stat))
        // Null data (-1) reads as empty and is written back as length 0.
        table["GetDataResponse#nulldata"] = .decodes(
            GetDataResponse(data: [], stat: stat), reencodedAs: { [0, 0, 0, 0] + $0.dropFirst(4) })
        add("GetChildrenResponse", GetChildrenResponse(children: ["a", "ü", "日本"]))
        // Java's jute writes U+1F600 as CESU-8 surrogates (ed a0 bd ed b8 80): read as the character it
        // means, written back as standard UTF-8 (which Java's reader accepts).
        table["GetChildrenResponse#supplementary"] = .decodes(
            GetChildrenResponse(children: ["😀"]), reencodedAs: { _ in [0, 0, 0, 1, 0, 0, 0, 4, 0xF0, 0x9F, 0x98, 0x80] })
        add("GetChildrenResponse#empty", GetChildrenResponse(children: []))
        add("GetAllChildrenNumberResponse", GetAllChildrenNumberResponse(totalNumber: 123_456))
        add("GetChildren2Response", GetChildren2Response(children: ["x"], stat: stat))
        add("GetACLResponse", GetACLResponse(acl: acls, stat: stat))
        add("CheckWatchesRequest", CheckWatchesRequest(path: "/w", type: 3))
        add("RemoveWatchesRequest", RemoveWatchesRequest(path: "/w", type: 2))
        add("GetEphemeralsRequest", GetEphemeralsRequest(prefixPath: ""))
        add("GetEphemeralsResponse", GetEphemeralsResponse(ephemerals: ["/e1", uni]))
        add("WhoAmIResponse", WhoAmIResponse(clientInfo: whoAmI))

        // Multi framing
        add(
            "MultiOperationRecord#write",
            MultiOperationRecord(ops: [
                .create(CreateRequest(path: "/a", data: data, acl: acls, flags: 0)),
                .createContainer(CreateRequest(path: "/cont", data: empty, acl: acls, flags: 4)),
                .createTTL(CreateTTLRequest(path: "/ttl", data: data, acl: acls, flags: 5, ttl: 5000)),
                .delete(DeleteRequest(path: "/d", version: -1)),
                .setData(SetDataRequest(path: uni, data: data, version: 7)),
                .check(CheckVersionRequest(path: "/c", version: 3)),
            ]))
        add(
            "MultiOperationRecord#read",
            MultiOperationRecord(ops: [
                .getChildren(GetChildrenRequest(path: "/r", watch: false)),
                .getData(GetDataRequest(path: uni, watch: false)),
            ]))
        add("MultiOperationRecord#empty", MultiOperationRecord(ops: []))
        add(
            "MultiOperationRecord#create2",
            MultiOperationRecord(ops: [
                .create2(CreateRequest(path: uni, data: data, acl: acls, flags: 1)),
                .delete(DeleteRequest(path: "/d", version: 4)),
            ]))
        add(
            "MultiResponse",
            MultiResponse(results: [
                .create(CreateResponse(path: "/a")),
                .create2(Create2Response(path: "/b", stat: stat), opCode: .create2),
                .delete,
                .check,
                .setData(SetDataResponse(stat: stat)),
                .getChildren(GetChildrenResponse(children: ["x", "ü"])),
                .getData(GetDataResponse(data: data, stat: stat)),
                .error(.ok),
                .error(.noNode),
                .error(.runtimeInconsistency),
            ]))
        add("MultiResponse#empty", MultiResponse(results: []))

        // org.apache.zookeeper.server.quorum
        add("LearnerInfo", LearnerInfo(serverid: 3, protocolVersion: 0x10000, configVersion: -1))
        add(
            "QuorumPacket",
            QuorumPacket(
                type: 2, zxid: 0x1_0000_0005, data: data,
                authinfo: [Id(scheme: "ip", id: "10.0.0.1"), Id(scheme: "digest", id: "ü")]))
        add("QuorumAuthPacket", QuorumAuthPacket(magic: -0x0123_4567_89AB_CDF0, status: 1, token: empty))

        // org.apache.zookeeper.server.persistence
        add("FileHeader", FileHeader(magic: 0x5a4b_4c47, version: 2, dbid: -1))

        // org.apache.zookeeper.txn
        add("TxnDigest", TxnDigest(version: 2, treeDigest: -123_456_789_012_345))
        add(
            "TxnHeader",
            TxnHeader(clientId: -0x0123_4567_89AB_CDF0, cxid: 7, zxid: 0x1_0000_0002, time: 1_700_000_000_000, type: 1))
        add("CreateTxnV0", CreateTxnV0(path: uni, data: data, acl: acls, ephemeral: true))
        add("CreateTxn", CreateTxn(path: uni, data: data, acl: acls, ephemeral: false, parentCVersion: -1))
        add("CreateTTLTxn", CreateTTLTxn(path: "/t", data: data, acl: [], parentCVersion: 9, ttl: 1000))
        add("CreateContainerTxn", CreateContainerTxn(path: "/c", data: empty, acl: acls, parentCVersion: 0))
        add("DeleteTxn", DeleteTxn(path: "/d"))
        add("SetDataTxn", SetDataTxn(path: "/s", data: data, version: 5))
        add("CheckVersionTxn", CheckVersionTxn(path: "/c", version: -1))
        add("SetACLTxn", SetACLTxn(path: "/a", acl: acls, version: 3))
        add("SetMaxChildrenTxn", SetMaxChildrenTxn(path: "/m", max: 10))
        add("CreateSessionTxn", CreateSessionTxn(timeOut: 30000))
        add("CloseSessionTxn", CloseSessionTxn(paths2Delete: ["/e1", uni]))
        add("ErrorTxn", ErrorTxn(err: -101))
        add("Txn", Txn(type: 1, data: data))
        add("MultiTxn", MultiTxn(txns: [Txn(type: 2, data: data), Txn(type: -1, data: empty)]))
        return table
    }()
}
