import ZooKeeperProtocol
import ZooKeeperTestSupport

/// The permission table: every opcode a client may send, by every kind of caller, against nodes whose
/// ACL names each kind of grantee with each single permission (or none, or all). The same script runs
/// against any server and yields "caller grantee-perms op" → outcome; two servers must agree cell by cell.
///
/// Blocking (raw sockets): run it with ``onOwnThread(_:)``.
struct PermissionTable {
    static let user = "alice"
    static let password = "alice-pw"
    static let superPassword = "super-pw"
    /// `zookeeper.DigestAuthenticationProvider.superDigest` for both servers.
    static var superDigest: String { Id.digest(user: "super", password: superPassword).id }

    enum Caller: String, CaseIterable {
        case anonymous, wrongDigest, rightDigest, ip, superUser
        /// Digest credentials without a colon: an identity all the same.
        case bareDigest

        /// The addauth this caller sends after connecting (every connection already has its `ip` id).
        var auth: (scheme: String, text: String)? {
            switch self {
            case .anonymous: nil
            case .wrongDigest: ("digest", "\(PermissionTable.user):wrong")
            case .rightDigest: ("digest", "\(PermissionTable.user):\(PermissionTable.password)")
            case .ip: ("ip", "127.0.0.1")
            case .superUser: ("digest", "super:\(PermissionTable.superPassword)")
            case .bareDigest: ("digest", PermissionTable.user)
            }
        }
    }

    /// Whom a node's single ACL entry names: anyone, alice's digest, the loopback address (every
    /// caller here), an address no caller has.
    enum Grantee: String, CaseIterable {
        case world, digest, ip, otherIP

        var id: Id {
            switch self {
            case .world: .anyone
            case .digest: .digest(user: PermissionTable.user, password: PermissionTable.password)
            case .ip: .ip("127.0.0.1")
            case .otherIP: .ip("10.0.0.0/8")
            }
        }
    }

    static let grants: [(name: String, perms: Permissions)] = [
        ("none", []), ("r", .read), ("w", .write), ("c", .create), ("d", .delete), ("a", .admin), ("all", .all),
    ]

    struct Target {
        var path: String
        var acl: [ACL]
        var label: String
    }

    static let root = "/perm"

    static var targets: [Target] {
        Grantee.allCases.flatMap { grantee in
            grants.map { grant in
                let label = "\(grantee.rawValue)-\(grant.name)"
                return Target(path: "\(root)/\(label)", acl: [ACL(perms: grant.perms, id: grantee.id)], label: label)
            }
        }
    }

    let port: Int
    private(set) var outcomes: [String: String] = [:]
    /// Requests sent by the callers (not counting set-up and clean-up).
    private(set) var requests = 0

    init(port: Int) { self.port = port }

    /// Builds the tree (as super), then runs every caller × target × op.
    mutating func run() throws {
        let admin = try ProbeSession(port: port)
        guard case .answered(.ok, _) = admin.addAuth(scheme: "digest", "super:\(Self.superPassword)") else {
            throw TestSupportError("the super user could not authenticate")
        }
        try Self.expectOK(admin.send(.create, CreateRequest(path: Self.root, data: [], acl: .openACLUnsafe, flags: 0)))
        for target in Self.targets {
            try Self.expectOK(admin.send(.create, CreateRequest(path: target.path, data: [], acl: target.acl, flags: 0)))
            try Self.expectOK(admin.send(.create, CreateRequest(path: target.path + "/k", data: [], acl: .openACLUnsafe, flags: 0)))
        }
        for caller in Caller.allCases {
            var session = try connect(caller)
            for target in Self.targets {
                if session.probe.isClosed { session = try connect(caller) }
                for (name, op) in Self.ops(target) {
                    let key = "\(caller.rawValue) \(target.label) \(name)"
                    if let failure = session.authFailure {
                        outcomes[key] = failure
                        continue
                    }
                    requests += 1
                    outcomes[key] = Self.render(op.send(session.probe), op: op)
                    op.cleanUp(admin, target)
                }
            }
            if session.authFailure == nil {
                requests += 2
                outcomes["\(caller.rawValue) whoAmI"] = Self.render(session.probe.send(.whoAmI, Empty()), op: .whoAmI)
                outcomes["\(caller.rawValue) reconfig"] = Self.render(
                    session.probe.send(.reconfig, ReconfigRequest(joiningServers: "", leavingServers: "", newMembers: "", curConfigId: -1)),
                    op: .plain(.reconfig, Empty()))
            }
        }
    }

    private struct CallerSession {
        var probe: ProbeSession
        /// Set when the caller's addauth was refused: its ops are not run.
        var authFailure: String?
    }

    private func connect(_ caller: Caller) throws -> CallerSession {
        let probe = try ProbeSession(port: port)
        guard let auth = caller.auth else { return CallerSession(probe: probe) }
        switch probe.addAuth(scheme: auth.scheme, auth.text) {
        case .answered(.ok, _): return CallerSession(probe: probe)
        case let reply: return CallerSession(probe: probe, authFailure: "addauth \(auth.scheme): \(Self.render(reply, op: .whoAmI))")
        }
    }

    private static func expectOK(_ reply: ProbeSession.Reply) throws {
        guard case .answered(.ok, _) = reply else { throw TestSupportError("set-up request failed: \(reply)") }
    }

    /// One probe: what to send, how to render its answer, how the super user undoes its effect.
    enum Op {
        case plain(OpCode, any JuteEncodable)
        case createChild(OpCode, any JuteEncodable)
        case deleteChild(any JuteEncodable)
        case replaceACL(SetACLRequest)
        case multi(MultiOperationRecord)
        case multiRead(MultiOperationRecord)
        case whoAmI

        func send(_ probe: ProbeSession) -> ProbeSession.Reply {
            switch self {
            case let .plain(code, record), let .createChild(code, record): probe.send(code, record)
            case let .deleteChild(record): probe.send(.delete, record)
            case let .replaceACL(record): probe.send(.setACL, record)
            case let .multi(record): probe.send(.multi, record)
            case let .multiRead(record): probe.send(.multiRead, record)
            case .whoAmI: probe.send(.whoAmI, Empty())
            }
        }

        /// Restores the target: its ACL, no `new` child, the `k` child present.
        func cleanUp(_ admin: ProbeSession, _ target: Target) {
            switch self {
            case .createChild, .multi, .deleteChild:
                _ = admin.send(.delete, DeleteRequest(path: target.path + "/new", version: -1))
                _ = admin.send(.create, CreateRequest(path: target.path + "/k", data: [], acl: .openACLUnsafe, flags: 0))
            case .replaceACL:
                _ = admin.send(.setACL, SetACLRequest(path: target.path, acl: target.acl, version: -1))
            case .plain, .multiRead, .whoAmI:
                break
            }
        }
    }

    /// Every request kind against `target`. Watches set here are removed again by the last op.
    static func ops(_ target: Target) -> [(String, Op)] {
        let path = target.path, new = target.path + "/new", kid = target.path + "/k"
        let badACL = ACL(perms: .all, id: Id(scheme: "digest", id: "no-colon"))
        // `auth` stands for the caller's digest ids (none for anonymous and ip callers: invalid then).
        let authACL = [ACL(perms: target.acl[0].perms, id: Id(scheme: "auth", id: ""))]
        let create = CreateRequest(path: new, data: [], acl: .openACLUnsafe, flags: 0)
        let container = CreateRequest(path: new, data: [], acl: .openACLUnsafe, flags: CreateMode.container.rawValue)
        let ttl = CreateTTLRequest(path: new, data: [], acl: .openACLUnsafe, flags: CreateMode.persistentWithTTL.rawValue, ttl: 60_000)
        let setWatches = SetWatches(relativeZxid: Int64.max, dataWatches: [path], existWatches: [], childWatches: [path])
        let setWatches2 = SetWatches2(relativeZxid: Int64.max, dataWatches: [path], existWatches: [], childWatches: [path],
                                      persistentWatches: [path], persistentRecursiveWatches: [])
        return [
            ("create", .createChild(.create, create)),
            ("create2", .createChild(.create2, create)),
            ("createContainer", .createChild(.createContainer, container)),
            ("createTTL", .createChild(.createTTL, ttl)),
            ("create ephemeral", .createChild(.create, CreateRequest(path: new, data: [], acl: .openACLUnsafe,
                                                                     flags: CreateMode.ephemeral.rawValue))),
            ("create existing", .createChild(.create, CreateRequest(path: kid, data: [], acl: .openACLUnsafe, flags: 0))),
            // Which comes first: the ACL's validity or the parent's permission.
            ("create invalid ACL", .createChild(.create, CreateRequest(path: new, data: [], acl: [badACL], flags: 0))),
            ("create auth ACL", .createChild(.create, CreateRequest(path: new, data: [], acl: authACL, flags: 0))),
            ("delete", .deleteChild(DeleteRequest(path: kid, version: -1))),
            ("delete missing", .deleteChild(DeleteRequest(path: path + "/missing", version: -1))),
            ("delete bad version", .deleteChild(DeleteRequest(path: kid, version: 99))),
            ("setData", .plain(.setData, SetDataRequest(path: path, data: Array("x".utf8), version: -1))),
            ("setData bad version", .plain(.setData, SetDataRequest(path: path, data: [], version: 99))),
            ("setACL", .replaceACL(SetACLRequest(path: path, acl: target.acl, version: -1))),
            ("setACL bad version", .replaceACL(SetACLRequest(path: path, acl: target.acl, version: 99))),
            ("setACL invalid ACL", .replaceACL(SetACLRequest(path: path, acl: [badACL], version: -1))),
            ("setACL auth ACL", .replaceACL(SetACLRequest(path: path, acl: authACL, version: -1))),
            ("getData", .plain(.getData, GetDataRequest(path: path, watch: false))),
            ("getData+watch", .plain(.getData, GetDataRequest(path: path, watch: true))),
            ("exists", .plain(.exists, ExistsRequest(path: path, watch: false))),
            ("exists missing", .plain(.exists, ExistsRequest(path: path + "/missing", watch: false))),
            ("getChildren", .plain(.getChildren, GetChildrenRequest(path: path, watch: false))),
            ("getChildren2", .plain(.getChildren2, GetChildren2Request(path: path, watch: false))),
            ("getAllChildrenNumber", .plain(.getAllChildrenNumber, GetAllChildrenNumberRequest(path: path))),
            ("getACL", .plain(.getACL, GetACLRequest(path: path))),
            ("sync", .plain(.sync, SyncRequest(path: path))),
            ("getEphemerals", .plain(.getEphemerals, GetEphemeralsRequest(prefixPath: path))),
            ("multi create", .multi(MultiOperationRecord(ops: [.create(create)]))),
            ("multi delete", .multi(MultiOperationRecord(ops: [.delete(DeleteRequest(path: kid, version: -1))]))),
            ("multi setData", .multi(MultiOperationRecord(ops: [.setData(SetDataRequest(path: path, data: [], version: -1))]))),
            ("multi check", .multi(MultiOperationRecord(ops: [.check(CheckVersionRequest(path: path, version: -1))]))),
            ("multi create+setData", .multi(MultiOperationRecord(ops: [
                .create(create), .setData(SetDataRequest(path: path, data: [], version: -1)),
            ]))),
            ("multiRead", .multiRead(MultiOperationRecord(ops: [.getData(GetDataRequest(path: path, watch: false)),
                                                               .getChildren(GetChildrenRequest(path: path, watch: false))]))),
            // The watch set by exists is there whether or not exists needs a permission to set it.
            ("exists+watch", .plain(.exists, ExistsRequest(path: path, watch: true))),
            ("checkWatches data", .plain(.checkWatches, CheckWatchesRequest(path: path, type: 2))),
            ("removeWatches data", .plain(.removeWatches, RemoveWatchesRequest(path: path, type: 2))),
            ("addWatch", .plain(.addWatch, AddWatchRequest(path: path, mode: AddWatchMode.persistent.rawValue))),
            ("checkWatches any", .plain(.checkWatches, CheckWatchesRequest(path: path, type: 3))),
            ("setWatches", .plain(.setWatches, setWatches)),
            ("setWatches2", .plain(.setWatches2, setWatches2)),
            ("removeWatches any", .plain(.removeWatches, RemoveWatchesRequest(path: path, type: 3))),
        ]
    }

    /// The answer as text: the error code, and for successful reads what permission could hide
    /// (the data, the children, the ACL as seen, the per-op results).
    static func render(_ reply: ProbeSession.Reply, op: Op) -> String {
        guard case let .answered(err, body) = reply else { return "\(reply)" }
        guard err == .ok else { return "\(err)" }
        do {
            switch op {
            case .plain(.getData, _):
                return "ok data=\(String(decoding: try GetDataResponse(juteBytes: body).data, as: UTF8.self))"
            case .plain(.getChildren, _): return "ok \(try GetChildrenResponse(juteBytes: body).children.sorted())"
            case .plain(.getChildren2, _): return "ok \(try GetChildren2Response(juteBytes: body).children.sorted())"
            case .plain(.getACL, _):
                return "ok " + (try GetACLResponse(juteBytes: body).acl).map { "\($0.id.scheme):\($0.id.id)=\($0.perms)" }.joined(separator: ",")
            case .plain(.getAllChildrenNumber, _): return "ok \(try GetAllChildrenNumberResponse(juteBytes: body).totalNumber)"
            case .plain(.getEphemerals, _): return "ok \(try GetEphemeralsResponse(juteBytes: body).ephemerals)"
            case .multi, .multiRead:
                return "ok [" + (try MultiResponse(juteBytes: body).results).map { result in
                    if case let .error(code) = result { return "\(code)" }
                    return "\(result.opCode)"
                }.joined(separator: ", ") + "]"
            case .whoAmI:
                return "ok " + (try WhoAmIResponse(juteBytes: body).clientInfo).map { "\($0.authScheme):\($0.user)" }.joined(separator: ",")
            default:
                return "ok"
            }
        } catch {
            return "ok, undecodable body: \(error)"
        }
    }
}

/// The missing record of a request that has none (whoAmI).
struct Empty: JuteEncodable {
    func encode(to writer: inout JuteWriter) {}
}
