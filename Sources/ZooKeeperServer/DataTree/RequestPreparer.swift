import ZooKeeperProtocol

/// A write as the prep stage sees it, whether alone or inside a multi.
enum WriteOp: Sendable {
    case create(CreateRequest, type: OpCode)  // create, create2, createContainer
    case createTTL(CreateTTLRequest)
    case delete(DeleteRequest)
    case deleteContainer(path: String)
    case setData(SetDataRequest)
    case setACL(SetACLRequest)
    case check(CheckVersionRequest)
}

/// Apache's `PrepRequestProcessor.pRequest2Txn`: validation, ACL and version checks, sequential
/// naming, turning one write into its txn. Runs against the tree plus the pending changes of
/// earlier ops of the same multi (Apache's outstanding `ChangeRecord`s).
struct RequestPreparer {
    struct ChangeRecord {
        var stat: StatPersisted
        var childCount: Int
        var acl: [ACL]
        var data: [UInt8]
    }

    let tree: DataTree
    let sessionId: Int64
    let ids: [Id]
    let zxid: Int64
    let time: Int64
    let enforceQuota: Bool
    /// The leader counts the session as another member's (Apache's `checkSession` throws SESSIONMOVED): each
    /// write op fails with it where Apache checks, so a moved multi is logged as Apache's leader logs it.
    var sessionMoved = false
    /// Pending changes by path; `.some(nil)` is a pending delete.
    var pending: [String: ChangeRecord?] = [:]
    var quotaWarnings: [String] = []

    /// `getRecordForPath`: throws `.noNode` for a missing or pending-deleted node.
    func record(_ path: String) throws(DataTreeError) -> ChangeRecord {
        let key = path.isEmpty ? "/" : path
        if let change = pending[key] {
            guard let change else { throw DataTreeError(.noNode) }
            return change
        }
        guard let node = tree.node(key) else { throw DataTreeError(.noNode) }
        return ChangeRecord(stat: node.stat, childCount: node.children.count, acl: node.acl, data: node.data)
    }

    func exists(_ path: String) -> Bool { (try? record(path)) != nil }

    mutating func setRecord(_ path: String, _ record: ChangeRecord?) {
        pending[path.isEmpty ? "/" : path] = .some(record)
    }

    func checkACL(_ acl: [ACL], _ perm: Permissions) throws(DataTreeError) {
        guard ACLPolicy.check(acl, perm: perm, ids: ids) else { throw DataTreeError(.noAuth) }
    }

    static func validatePath(_ path: String) throws(DataTreeError) {
        do { _ = try ZNodePath(path) } catch { throw DataTreeError(.badArguments) }
    }

    /// `getParentPathAndValidate`: no slash, a NUL or one of the four special paths → badArguments.
    static func parentForDelete(_ path: String) throws(DataTreeError) -> String {
        guard let parent = javaParentPath(path), !path.contains("\0"),
            ![DataTree.procZookeeper, DataTree.quotaZookeeper, DataTree.configZookeeper, "/"].contains(path)
        else { throw DataTreeError(.badArguments) }
        return parent
    }

    static func checkAndIncVersion(_ current: Int32, expected: Int32) throws(DataTreeError) -> Int32 {
        if expected != -1 && expected != current { throw DataTreeError(.badVersion) }
        return current &+ 1
    }

    /// Java's `String.format("%010d", value)`: zero-padded to 10 characters, sign included.
    static func sequenceSuffix(_ value: Int32) -> String {
        let digits = String(value.magnitude)
        if value < 0 { return "-" + String(repeating: "0", count: max(0, 9 - digits.count)) + digits }
        return String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }

    /// `sessionTracker.checkSession(sessionId, owner)` for a session the leader tracks.
    func checkSession() throws(DataTreeError) {
        if sessionMoved { throw DataTreeError(.sessionMoved) }
    }

    mutating func prepare(_ op: WriteOp) throws(DataTreeError) -> TxnBody {
        switch op {
        case let .create(request, type):
            return try prepareCreate(type: type, path: request.path, data: request.data, acl: request.acl, flags: request.flags, ttl: -1)
        case let .createTTL(request):
            return try prepareCreate(type: .createTTL, path: request.path, data: request.data, acl: request.acl, flags: request.flags, ttl: request.ttl)
        case let .delete(request):
            try checkSession()
            let parentPath = try Self.parentForDelete(request.path)
            var parent = try record(parentPath)
            try checkACL(parent.acl, .delete)
            let node = try record(request.path)
            _ = try Self.checkAndIncVersion(node.stat.version, expected: request.version)
            if node.childCount > 0 { throw DataTreeError(.notEmpty) }
            parent.childCount -= 1
            parent.stat.pzxid = zxid
            setRecord(parentPath, parent)
            setRecord(request.path, nil)
            return .delete(DeleteTxn(path: request.path))
        case let .deleteContainer(path):
            let parentPath = try Self.parentForDelete(path)
            let node = try record(path)
            if node.childCount > 0 { throw DataTreeError(.notEmpty) }
            if EphemeralKind(owner: node.stat.ephemeralOwner, extendedTypesEnabled: tree.extendedTypesEnabled) == .normal {
                throw DataTreeError(.badVersion)
            }
            var parent = try record(parentPath)
            parent.childCount -= 1
            parent.stat.pzxid = zxid
            setRecord(parentPath, parent)
            setRecord(path, nil)
            return .deleteContainer(DeleteTxn(path: path))
        case let .setData(request):
            try checkSession()
            try Self.validatePath(request.path)
            var node = try record(request.path)
            try checkACL(node.acl, .write)
            if enforceQuota,
                let warning = try tree.checkQuota(path: request.path, lastData: node.data, data: request.data, countDiff: 0)
            {
                quotaWarnings.append(warning)
            }
            let version = try Self.checkAndIncVersion(node.stat.version, expected: request.version)
            node.stat.version = version
            node.stat.mtime = time
            node.stat.mzxid = zxid
            node.data = request.data
            setRecord(request.path, node)
            return .setData(SetDataTxn(path: request.path, data: request.data, version: version))
        case let .setACL(request):
            try checkSession()
            try Self.validatePath(request.path)
            let acl = try ACLPolicy.fixup(request.acl, ids: ids)
            var node = try record(request.path)
            try checkACL(node.acl, .admin)
            let version = try Self.checkAndIncVersion(node.stat.aversion, expected: request.version)
            node.stat.aversion = version
            setRecord(request.path, node)
            return .setACL(SetACLTxn(path: request.path, acl: acl, version: version))
        case let .check(request):
            try checkSession()
            try Self.validatePath(request.path)
            let node = try record(request.path)
            try checkACL(node.acl, .read)
            let version = try Self.checkAndIncVersion(node.stat.version, expected: request.version)
            return .check(CheckVersionTxn(path: request.path, version: version))
        }
    }

    /// `pRequest2TxnCreate`, checks in Apache's order.
    private mutating func prepareCreate(
        type: OpCode, path requestPath: String, data: [UInt8], acl: [ACL], flags: Int32, ttl: Int64
    ) throws(DataTreeError) -> TxnBody {
        guard let mode = CreateMode(rawValue: flags) else { throw DataTreeError(.badArguments) }
        if mode.isTTL && !tree.extendedTypesEnabled { throw DataTreeError(.unimplemented) }
        if mode.isTTL ? EphemeralKind.ttlOwner(ttl) == nil : ttl >= 0 { throw DataTreeError(.badArguments) }
        try checkSession()  // validateCreateRequest: after the TTL checks, before the path's
        guard let parentPath = javaParentPath(requestPath), !requestPath.contains("\0") else {
            throw DataTreeError(.badArguments)
        }
        let fixedACL = try ACLPolicy.fixup(acl, ids: ids)
        var parent = try record(parentPath)
        try checkACL(parent.acl, .create)
        var path = requestPath
        if mode.isSequential { path += Self.sequenceSuffix(parent.stat.cversion) }
        try Self.validatePath(path)
        if exists(path) { throw DataTreeError(.nodeExists) }
        if EphemeralKind(owner: parent.stat.ephemeralOwner, extendedTypesEnabled: tree.extendedTypesEnabled) == .normal {
            throw DataTreeError(.noChildrenForEphemerals)
        }
        let newCVersion = parent.stat.cversion &+ 1
        if enforceQuota, let warning = try tree.checkQuota(path: path, lastData: nil, data: data, countDiff: 1) {
            quotaWarnings.append(warning)
        }
        let body: TxnBody
        switch type {
        case .createContainer:
            body = .createContainer(CreateContainerTxn(path: path, data: data, acl: fixedACL, parentCVersion: newCVersion))
        case .createTTL:
            body = .createTTL(CreateTTLTxn(path: path, data: data, acl: fixedACL, parentCVersion: newCVersion, ttl: ttl))
        case .create2:
            body = .create2(CreateTxn(path: path, data: data, acl: fixedACL, ephemeral: mode.isEphemeral, parentCVersion: newCVersion))
        default:
            body = .create(CreateTxn(path: path, data: data, acl: fixedACL, ephemeral: mode.isEphemeral, parentCVersion: newCVersion))
        }
        let owner: Int64
        if mode.isContainer {
            owner = EphemeralOwner.container
        } else if mode.isTTL {
            owner = EphemeralKind.ttlOwner(ttl) ?? 0
        } else {
            owner = mode.isEphemeral ? sessionId : 0
        }
        parent.childCount += 1
        parent.stat.cversion = newCVersion
        parent.stat.pzxid = zxid
        setRecord(parentPath, parent)
        setRecord(path, ChangeRecord(stat: DataNode.newStat(zxid: zxid, time: time, ephemeralOwner: owner), childCount: 0, acl: fixedACL, data: data))
        return body
    }
}
