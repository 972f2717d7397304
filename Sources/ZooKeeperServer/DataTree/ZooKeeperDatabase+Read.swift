import ZooKeeperProtocol

// The FinalRequestProcessor cases that read the tree or manage watches (no txn).
extension ZooKeeperDatabase {
    mutating func processRead(_ request: ClientRequest) -> ProcessResult {
        var result = ProcessResult()
        do {
            result.response = try readResponse(request)
        } catch let error as DataTreeError {
            result.err = error.code
            if error.code == .unimplemented { result.closeConnection = true }
        } catch {
            result.err = .marshallingError
        }
        if result.err != .ok { result.response = [] }
        return result
    }

    private func stat(_ node: DataNode) -> Stat { node.clientStat(extendedTypesEnabled: extendedTypesEnabled) }

    private func existing(_ path: String, _ perm: Permissions, _ ids: [Id]) throws(DataTreeError) -> DataNode {
        guard let node = tree.node(path) else { throw DataTreeError(.noNode) }
        guard ACLPolicy.check(node.acl, perm: perm, ids: ids) else { throw DataTreeError(.noAuth) }
        return node
    }

    private mutating func readResponse(_ request: ClientRequest) throws -> [UInt8] {
        let session = request.sessionId
        let ids = request.authIds
        let body = request.body
        switch request.opCode {
        case .exists:
            let exists = try ExistsRequest(juteBytes: body)
            if exists.path.contains("\0") { throw DataTreeError(.badArguments) }
            // No permission is checked: 3.8.0 lets anyone learn that a node exists and its Stat
            // (ZOOKEEPER-2590 added a READ check only in 3.8.4 and 3.9).
            // The watch is set even when the node is missing: an exist watch (in the data table).
            if exists.watch { tree.dataWatches.add(path: exists.path, session: session) }
            guard let node = tree.node(exists.path) else { throw DataTreeError(.noNode) }
            return ExistsResponse(stat: stat(node)).juteBytes()
        case .getData:
            return try getData(try GetDataRequest(juteBytes: body), session: session, ids: ids).juteBytes()
        case .getChildren:
            return try getChildren(try GetChildrenRequest(juteBytes: body), session: session, ids: ids).juteBytes()
        case .getChildren2:
            let get = try GetChildren2Request(juteBytes: body)
            let node = try existing(get.path, .read, ids)
            if get.watch { tree.childWatches.add(path: get.path, session: session) }
            return GetChildren2Response(children: node.children.sorted(), stat: stat(node)).juteBytes()
        case .getACL:
            let get = try GetACLRequest(juteBytes: body)
            let node = try existing(get.path, [.read, .admin], ids)
            let admin = ACLPolicy.check(node.acl, perm: .admin, ids: ids)
            return GetACLResponse(acl: admin ? node.acl : ACLPolicy.masked(node.acl), stat: stat(node)).juteBytes()
        case .getAllChildrenNumber:
            let get = try GetAllChildrenNumberRequest(juteBytes: body)
            _ = try existing(get.path, .read, ids)
            return GetAllChildrenNumberResponse(totalNumber: Int32(truncatingIfNeeded: tree.allChildrenNumber(get.path))).juteBytes()
        case .sync:
            return SyncResponse(path: try SyncRequest(juteBytes: body).path).juteBytes()
        case .checkWatches:
            let check = try CheckWatchesRequest(juteBytes: body)
            let tables = try Self.tables(forWatcherType: check.type)
            let found = (tables.data && tree.dataWatches.hasWatchers(path: check.path))
                || (tables.child && tree.childWatches.hasWatchers(path: check.path))
            if !found { throw DataTreeError(.noWatcher) }
            return []
        case .removeWatches:
            let remove = try RemoveWatchesRequest(juteBytes: body)
            let tables = try Self.tables(forWatcherType: remove.type)
            var removed = false
            if tables.child && tree.childWatches.remove(path: remove.path, session: session) { removed = true }
            if tables.data && tree.dataWatches.remove(path: remove.path, session: session) { removed = true }
            if !removed { throw DataTreeError(.noWatcher) }
            return []
        case .addWatch:
            let add = try AddWatchRequest(juteBytes: body)
            guard let mode = AddWatchMode(rawValue: add.mode) else { throw DataTreeError(.marshallingError) }
            let watcherMode: WatcherMode = mode == .persistent ? .persistent : .persistentRecursive
            tree.dataWatches.add(path: add.path, session: session, mode: watcherMode)
            tree.childWatches.add(path: add.path, session: session, mode: watcherMode)
            return ErrorResponse(err: 0).juteBytes()
        case .setWatches:
            let set = try SetWatches(juteBytes: body)
            setWatches(
                SetWatches2(relativeZxid: set.relativeZxid, dataWatches: set.dataWatches, existWatches: set.existWatches,
                            childWatches: set.childWatches, persistentWatches: [], persistentRecursiveWatches: []),
                session: session)
            return []
        case .setWatches2:
            setWatches(try SetWatches2(juteBytes: body), session: session)
            return []
        case .getEphemerals:
            let prefix = try GetEphemeralsRequest(juteBytes: body).prefixPath
            let all = orderedEphemerals(of: session)  // Apache's HashSet order
            let trimmed = prefix.trimmingASCIISpaces
            if trimmed.isEmpty || trimmed == "/" { return GetEphemeralsResponse(ephemerals: all).juteBytes() }
            return GetEphemeralsResponse(ephemerals: all.filter { $0.hasPrefix(prefix) }).juteBytes()
        case .whoAmI:
            return WhoAmIResponse(clientInfo: ACLPolicy.clientInfo(ids)).juteBytes()
        case .multiRead:
            let record = try MultiOperationRecord(juteBytes: body)
            var results: [MultiResult] = []
            for op in record.ops {
                do {
                    switch op {
                    case let .getChildren(get): results.append(.getChildren(try getChildren(get, session: session, ids: ids)))
                    case let .getData(get):
                        let response = try getData(get, session: session, ids: ids)
                        results.append(.getData(response))
                    default: throw DataTreeError(.marshallingError)  // "Invalid type of readOp"
                    }
                } catch let error as DataTreeError where error.code != .marshallingError {
                    results.append(.error(error.code))
                }
            }
            return MultiResponse(results: results).juteBytes()
        default:
            throw DataTreeError(.unimplemented)
        }
    }

    private mutating func getData(_ get: GetDataRequest, session: Int64, ids: [Id]) throws(DataTreeError) -> GetDataResponse {
        let node = try existing(get.path, .read, ids)
        if get.watch { tree.dataWatches.add(path: get.path, session: session) }
        return GetDataResponse(data: node.data, stat: stat(node))
    }

    private mutating func getChildren(_ get: GetChildrenRequest, session: Int64, ids: [Id]) throws(DataTreeError) -> GetChildrenResponse {
        let node = try existing(get.path, .read, ids)
        if get.watch { tree.childWatches.add(path: get.path, session: session) }
        return GetChildrenResponse(children: node.children.sorted())
    }

    /// `WatcherType.fromInt` in 3.8: Children 1, Data 2, Any 3; anything else fails the request.
    private static func tables(forWatcherType type: Int32) throws(DataTreeError) -> (data: Bool, child: Bool) {
        switch type {
        case 1: return (false, true)
        case 2: return (true, false)
        case 3: return (true, true)
        default: throw DataTreeError(.marshallingError)
        }
    }

    /// `DataTree.setWatches`: catch-up events for what changed since `relativeZxid`, otherwise the
    /// watch is re-armed; persistent watches are only re-added.
    mutating func setWatches(_ set: SetWatches2, session: Int64) {
        for path in set.dataWatches {
            if let node = tree.node(path) {
                if node.stat.mzxid > set.relativeZxid {
                    tree.notify([session], .nodeDataChanged, path)
                } else {
                    tree.dataWatches.add(path: path, session: session)
                }
            } else {
                tree.notify([session], .nodeDeleted, path)
            }
        }
        for path in set.existWatches {
            if tree.node(path) != nil {
                tree.notify([session], .nodeCreated, path)
            } else {
                tree.dataWatches.add(path: path, session: session)
            }
        }
        for path in set.childWatches {
            if let node = tree.node(path) {
                if node.stat.pzxid > set.relativeZxid {
                    tree.notify([session], .nodeChildrenChanged, path)
                } else {
                    tree.childWatches.add(path: path, session: session)
                }
            } else {
                tree.notify([session], .nodeDeleted, path)
            }
        }
        for path in set.persistentWatches {
            tree.childWatches.add(path: path, session: session, mode: .persistent)
            tree.dataWatches.add(path: path, session: session, mode: .persistent)
        }
        for path in set.persistentRecursiveWatches {
            tree.childWatches.add(path: path, session: session, mode: .persistentRecursive)
            tree.dataWatches.add(path: path, session: session, mode: .persistentRecursive)
        }
    }
}

extension String {
    /// Java's `String.trim()` (drops leading/trailing characters ≤ U+0020).
    var trimmingASCIISpaces: Substring {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0.value > 0x20 }),
            let last = scalars.lastIndex(where: { $0.value > 0x20 })
        else { return "" }
        return Substring(scalars[first...last])
    }
}
