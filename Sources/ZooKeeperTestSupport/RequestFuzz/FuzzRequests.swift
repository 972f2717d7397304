import ZooKeeperProtocol

/// Well-formed requests for every 3.8 opcode, with the answers a correct server may give.
enum FuzzRequests {
    /// The opcodes after which the connection stays open, with their weights.
    static let openingOps: [(OpCode, Int)] = [
        (.create, 8), (.create2, 4), (.createContainer, 2), (.createTTL, 1), (.delete, 6), (.exists, 4),
        (.getData, 4), (.setData, 5), (.getACL, 2), (.setACL, 2), (.getChildren, 3), (.getChildren2, 2),
        (.sync, 1), (.ping, 1), (.multi, 5), (.reconfig, 1), (.checkWatches, 1), (.removeWatches, 1),
        (.multiRead, 3), (.setWatches, 1), (.getEphemerals, 1), (.getAllChildrenNumber, 1), (.setWatches2, 1),
        (.addWatch, 2), (.whoAmI, 1), (.auth, 2),
    ]

    /// Opcodes the server answers and then closes the connection for.
    static let closingOps: [OpCode] = [.check, .closeSession, .deleteContainer, .createSession, .sasl, .notification, .error]

    /// A random request among ``openingOps`` with `xid`.
    static func opening(_ random: inout FuzzRandom, xid: Int32) -> FuzzRequest {
        let op = openingOps[random.weighted(openingOps.map(\.1))].0
        return request(op, &random, xid: xid)
    }

    /// A well-formed request of `op` on the fuzz subtree.
    static func request(_ op: OpCode, _ random: inout FuzzRandom, xid: Int32) -> FuzzRequest {
        typealias E = FuzzErr
        let path = FuzzVocabulary.fuzzPath(&random)
        func make(_ record: some JuteEncodable, _ errors: Set<Int32>, closes: Bool = false) -> FuzzRequest {
            FuzzRequest(xid: xid, opCode: op.rawValue, body: record.juteBytes(), errors: errors, closes: closes)
        }
        let version: Int32 = random.chance(0.7) ? -1 : Int32(random.int(0...3))
        switch op {
        case .create, .create2, .createContainer:
            let flags = Int32(op == .createContainer ? 4 : random.pick([0, 0, 0, 1, 1, 2, 3, 4, 5, 6]))
            let record = CreateRequest(path: path, data: FuzzVocabulary.data(&random), acl: FuzzVocabulary.validACL(&random), flags: flags)
            return make(record, E.create)
        case .createTTL:
            let record = CreateTTLRequest(path: path, data: [], acl: .openACLUnsafe, flags: random.pick([5, 6, 0]),
                                          ttl: Int64(random.int(-1...100_000)))
            return make(record, E.create)
        case .delete:
            return make(DeleteRequest(path: path, version: version), [E.ok, E.noNode, E.notEmpty, E.badVersion, E.noAuth])
        case .exists:
            return make(ExistsRequest(path: FuzzVocabulary.readPath(&random), watch: random.chance(0.3)), [E.ok, E.noNode])
        case .getData:
            return make(GetDataRequest(path: FuzzVocabulary.readPath(&random), watch: random.chance(0.3)), E.read)
        case .setData:
            let record = SetDataRequest(path: path, data: FuzzVocabulary.data(&random), version: version)
            return make(record, [E.ok, E.noNode, E.badVersion, E.noAuth])
        case .getACL:
            return make(GetACLRequest(path: FuzzVocabulary.readPath(&random)), E.read)
        case .setACL:
            let acl = random.chance(0.3) ? FuzzVocabulary.oddValidACL(&random) : FuzzVocabulary.validACL(&random)
            return make(SetACLRequest(path: path, acl: acl, version: version), [E.ok, E.noNode, E.badVersion, E.noAuth, E.invalidACL])
        case .getChildren:
            return make(GetChildrenRequest(path: FuzzVocabulary.readPath(&random), watch: random.chance(0.3)), E.read)
        case .getChildren2:
            return make(GetChildren2Request(path: FuzzVocabulary.readPath(&random), watch: random.chance(0.3)), E.read)
        case .sync:
            return make(SyncRequest(path: FuzzVocabulary.readPath(&random)), [E.ok])
        case .ping:
            return FuzzRequest(xid: xid, opCode: op.rawValue, body: [], errors: [E.ok])
        case .multi:
            let ops = (0..<random.int(1...6)).map { _ in FuzzMulti.writeOp(&random) }
            return make(MultiOperationRecord(ops: ops), [E.ok])
        case .multiRead:
            let ops = (0..<random.int(1...6)).map { _ in FuzzMulti.readOp(&random) }
            return make(MultiOperationRecord(ops: ops), [E.ok])
        case .reconfig:
            let record = ReconfigRequest(joiningServers: "server.9=127.0.0.1:1:2", leavingServers: "", newMembers: "", curConfigId: -1)
            return make(record, [E.reconfigDisabled])
        case .checkWatches:
            return make(CheckWatchesRequest(path: path, type: Int32(random.int(1...3))), [E.ok, E.noWatcher])
        case .removeWatches:
            return make(RemoveWatchesRequest(path: path, type: Int32(random.int(1...3))), [E.ok, E.noWatcher])
        case .setWatches:
            let record = SetWatches(relativeZxid: Int64(random.int(0...1_000)), dataWatches: [path], existWatches: [FuzzVocabulary.fuzzPath(&random)],
                                    childWatches: [FuzzVocabulary.readPath(&random)])
            return make(record, [E.ok])
        case .setWatches2:
            let record = SetWatches2(relativeZxid: Int64(random.int(0...1_000)), dataWatches: [path], existWatches: [],
                                     childWatches: [], persistentWatches: [FuzzVocabulary.fuzzPath(&random)],
                                     persistentRecursiveWatches: [FuzzVocabulary.root])
            return make(record, [E.ok])
        case .getEphemerals:
            return make(GetEphemeralsRequest(prefixPath: random.pick(["/", "", " ", "/fuzz", path])), [E.ok])
        case .getAllChildrenNumber:
            return make(GetAllChildrenNumberRequest(path: FuzzVocabulary.readPath(&random)), E.read)
        case .addWatch:
            return make(AddWatchRequest(path: path, mode: Int32(random.int(0...1))), [E.ok])
        case .whoAmI:
            return FuzzRequest(xid: xid, opCode: op.rawValue, body: [], errors: [E.ok])
        case .auth:
            // Digest auth takes any text; the reply comes under the auth xid.
            let auth = AuthPacket(type: 0, scheme: "digest", auth: Array(random.pick(FuzzVocabulary.credentials).utf8))
            return FuzzRequest(xid: ReservedXid.auth, opCode: op.rawValue, body: auth.juteBytes(), errors: [E.ok])
        case .closeSession:
            return FuzzRequest(xid: xid, opCode: op.rawValue, body: [], errors: [E.ok], closes: true)
        case .check:
            // ZOOKEEPER-2623: a top-level check is refused (3.9's answer), never logged.
            return make(CheckVersionRequest(path: path, version: version), [E.unimplemented], closes: true)
        default:
            // Server-internal and unknown opcodes: UNIMPLEMENTED, then the connection closes.
            let body = random.chance(0.5) ? RawConnection.string(path) : random.bytes(random.int(0...32))
            return FuzzRequest(xid: xid, opCode: op.rawValue, body: body, errors: [E.unimplemented], closes: true)
        }
    }
}
