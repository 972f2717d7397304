import ZooKeeperProtocol

// The four node mutations, as `DataTree.createNode/deleteNode/setData/setACL` apply them: stats,
// parent bookkeeping, quota stats and watch triggers, in Apache's order.
extension DataTree {
    /// `DataTree.createNode`. `parentCVersion` -1 means "parent's cversion + 1" (old txns).
    /// The parent's cversion and pzxid change only when `parentCVersion` is greater than its
    /// current cversion.
    @discardableResult
    mutating func createNode(
        path: String, data: [UInt8], acl: [ACL], ephemeralOwner: Int64, parentCVersion: Int32,
        zxid: Int64, time: Int64
    ) throws(DataTreeError) -> Stat {
        guard let parentName = javaParentPath(path) else { throw DataTreeError(.noNode) }
        let parentPath = parentName.isEmpty ? "/" : parentName
        let name = childName(path)
        // No local copy of the parent may outlive this check: it would force `update` to copy its children.
        guard let exists = nodes[parentPath]?.children.contains(name) else { throw DataTreeError(.noNode) }
        if exists { throw DataTreeError(.nodeExists) }
        update(parentPath) { parent in
            var cversion = parentCVersion
            if cversion == -1 { cversion = parent.stat.cversion &+ 1 }
            if cversion > parent.stat.cversion {
                parent.stat.cversion = cversion
                parent.stat.pzxid = zxid
            }
            parent.children.insert(name)
        }
        let node = DataNode(data: data, acl: acl, stat: DataNode.newStat(zxid: zxid, time: time, ephemeralOwner: ephemeralOwner))
        put(path, node)
        if parentName.hasPrefix(Self.quotaZookeeper) {
            if name == Quotas.limitNode { quotaPaths.insert(Quotas.trimQuotaPath(parentName)) }
            if name == Quotas.statNode { updateQuotaForPath(Quotas.trimQuotaPath(parentName)) }
        }
        if let prefix = maxPrefixWithQuota(path) {
            updateQuotaStat(prefix, bytesDiff: Int64(data.count), countDiff: 1)
        }
        // 3.8.4 (CVE-2024-23944): each event carries its node's ACL (the parent's for children-changed).
        notify(dataWatches.trigger(path: path, type: .nodeCreated), .nodeCreated, path, acl: acl)
        notify(childWatches.trigger(path: parentPath, type: .nodeChildrenChanged), .nodeChildrenChanged, parentPath,
               acl: nodes[parentPath]?.acl)
        return (nodes[path] ?? node).clientStat(extendedTypesEnabled: extendedTypesEnabled)
    }

    /// `DataTree.deleteNode`: the parent loses the child and gets pzxid = zxid if that is newer;
    /// its cversion does not change.
    mutating func deleteNode(path: String, zxid: Int64) throws(DataTreeError) {
        guard let parentName = javaParentPath(path) else { throw DataTreeError(.noNode) }
        let parentPath = parentName.isEmpty ? "/" : parentName
        let name = childName(path)
        guard nodes[parentPath] != nil else { throw DataTreeError(.noNode) }
        update(parentPath) { parent in
            parent.children.remove(name)
            if zxid > parent.stat.pzxid { parent.stat.pzxid = zxid }
        }
        guard let node = removeNode(path) else { throw DataTreeError(.noNode) }
        if parentName.hasPrefix(Self.procZookeeper) && name == Quotas.limitNode {
            quotaPaths.remove(Quotas.trimQuotaPath(parentName))
        }
        if let prefix = maxPrefixWithQuota(path) {
            updateQuotaStat(prefix, bytesDiff: -Int64(node.data.count), countDiff: -1)
        }
        let fired = dataWatches.trigger(path: path, type: .nodeDeleted)
        notify(fired, .nodeDeleted, path, acl: node.acl)
        notify(childWatches.trigger(path: path, type: .nodeDeleted, suppress: Set(fired)), .nodeDeleted, path, acl: node.acl)
        notify(childWatches.trigger(path: parentPath, type: .nodeChildrenChanged), .nodeChildrenChanged, parentPath,
               acl: nodes[parentPath]?.acl)
    }

    /// `DataTree.setData`: the txn carries the new version.
    mutating func setData(path: String, data: [UInt8], version: Int32, zxid: Int64, time: Int64) throws(DataTreeError) -> Stat {
        let key = path.isEmpty ? "/" : path
        guard let old = nodes[key] else { throw DataTreeError(.noNode) }
        update(key) { node in
            node.data = data
            node.stat.mtime = time
            node.stat.mzxid = zxid
            node.stat.version = version
        }
        if let prefix = maxPrefixWithQuota(path) {
            updateQuotaStat(prefix, bytesDiff: Int64(data.count) - Int64(old.data.count), countDiff: 0)
        }
        let stat = nodes[key]?.clientStat(extendedTypesEnabled: extendedTypesEnabled) ?? Stat()
        notify(dataWatches.trigger(path: path, type: .nodeDataChanged), .nodeDataChanged, path, acl: old.acl)
        return stat
    }

    /// `DataTree.setACL`: the txn carries the new aversion.
    mutating func setACL(path: String, acl: [ACL], version: Int32) throws(DataTreeError) -> Stat {
        let key = path.isEmpty ? "/" : path
        guard nodes[key] != nil else { throw DataTreeError(.noNode) }
        update(key) { node in
            node.stat.aversion = version
            node.acl = acl
        }
        return nodes[key]?.clientStat(extendedTypesEnabled: extendedTypesEnabled) ?? Stat()
    }

    /// `DataTree.setCversionPzxid` (used when replaying a create that already happened).
    mutating func setCversionPzxid(path: String, cversion: Int32, zxid: Int64) throws(DataTreeError) {
        let key = path.isEmpty ? "/" : path
        guard let node = nodes[key] else { throw DataTreeError(.noNode) }
        let newCVersion = cversion == -1 ? node.stat.cversion &+ 1 : cversion
        if newCVersion > node.stat.cversion {
            update(key) { node in
                node.stat.cversion = newCVersion
                node.stat.pzxid = zxid
            }
        }
    }

    /// Removes a closed session's ephemerals (`killSession`): the txn's list first, then any the
    /// tree still holds for the session.
    mutating func killSession(_ session: Int64, zxid: Int64, paths: [String]) {
        let local = ephemerals.removeValue(forKey: session) ?? []
        for path in paths { try? deleteNode(path: path, zxid: zxid) }
        for path in local.subtracting(paths).sorted() { try? deleteNode(path: path, zxid: zxid) }
    }
}
