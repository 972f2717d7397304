import ZooKeeperProtocol

// Our own compact snapshot of the database, in jute encoding:
//   int magic 'SHSN', int version 1, long lastProcessedZxid,
//   int sessionCount, { long sessionId, int timeOut }*   (ascending id)
//   int nodeCount,    { ustring path, buffer data, vector<ACL> acl, StatPersisted stat }*  (sorted paths)
// Children sets are rebuilt from the paths; watches are not part of a snapshot (as in Apache).
extension ZooKeeperDatabase {
    package static let snapshotMagic: Int32 = 0x5348_534E  // "SHSN"
    package static let snapshotVersion: Int32 = 1

    package func snapshot() -> [UInt8] {
        var writer = JuteWriter(capacity: tree.approximateDataSize + 128 * tree.nodes.count)
        writer.write(Self.snapshotMagic)
        writer.write(Self.snapshotVersion)
        writer.write(lastProcessedZxid)
        writer.write(Int32(sessions.count))
        for (id, timeout) in sessions.sorted(by: { $0.key < $1.key }) {
            writer.write(id)
            writer.write(timeout)
        }
        writer.write(Int32(tree.nodes.count))
        for path in tree.nodes.keys.sorted() {
            guard let node = tree.nodes[path] else { continue }
            writer.writeString(path)
            writer.writeBuffer(node.data)
            writer.writeVector(node.acl)
            writer.write(node.stat)
        }
        return writer.bytes
    }

    package init(snapshot bytes: [UInt8], extendedTypesEnabled: Bool = false, enforceQuota: Bool = false) throws(JuteDecodingError) {
        var reader = JuteReader(bytes, maxLength: Int(Int32.max))
        let magic = try reader.readInt32()
        guard magic == Self.snapshotMagic else { throw .invalidValue(field: "snapshot.magic", value: Int64(magic)) }
        let version = try reader.readInt32()
        guard version == Self.snapshotVersion else { throw .invalidValue(field: "snapshot.version", value: Int64(version)) }
        let zxid = try reader.readInt64()
        let sessionCount = try reader.readInt32()
        guard sessionCount >= 0 else { throw .negativeLength(sessionCount) }
        var sessions: [Int64: Int32] = [:]
        for _ in 0..<sessionCount {
            let id = try reader.readInt64()
            sessions[id] = try reader.readInt32()
        }
        let nodeCount = try reader.readInt32()
        guard nodeCount >= 0 else { throw .negativeLength(nodeCount) }
        var nodes: [String: DataNode] = [:]
        for _ in 0..<nodeCount {
            let path = try reader.readString()
            let data = try reader.readBuffer()
            let acl = try reader.readVector(of: ACL.self)
            let stat = try reader.read(StatPersisted.self)
            nodes[path] = DataNode(data: data, acl: acl, stat: stat)
        }
        try reader.expectEnd()
        for path in nodes.keys where path != "/" {
            guard let parent = javaParentPath(path) else { throw .invalidValue(field: "snapshot.path", value: 0) }
            let parentPath = parent.isEmpty ? "/" : parent
            guard nodes[parentPath] != nil else { throw .invalidValue(field: "snapshot.parent", value: 0) }
            nodes[parentPath]?.children.insert(childName(path))
        }
        guard nodes["/"] != nil else { throw .invalidValue(field: "snapshot.root", value: 0) }
        self.tree = DataTree(extendedTypesEnabled: extendedTypesEnabled, nodes: nodes, lastProcessedZxid: zxid)
        self.enforceQuota = enforceQuota
        self.sessions = sessions
    }
}

extension ZooKeeperDatabase {
    /// A database restored from a leader's SNAP stream (nodes with their children already linked).
    /// `/zookeeper` and `/zookeeper/quota` must be present, as Apache's learner requires.
    init(restoring reader: SnapshotStreamReader, lastProcessedZxid: Int64, extendedTypesEnabled: Bool, enforceQuota: Bool) throws(JuteDecodingError) {
        guard reader.isComplete else { throw .truncated(needed: 1, available: 0) }
        for path in ["/", DataTree.procZookeeper, DataTree.quotaZookeeper] where reader.nodes[path] == nil {
            throw .invalidValue(field: "snapshot \(path)", value: 0)
        }
        self.tree = DataTree(extendedTypesEnabled: extendedTypesEnabled, nodes: reader.nodes, lastProcessedZxid: lastProcessedZxid)
        self.enforceQuota = enforceQuota
        self.sessions = reader.sessions
    }
}

extension ZooKeeperDatabase {
    /// `ZKDatabase.initConfigInZKDatabase`: `/zookeeper/config` holds this member's view of the ensemble
    /// (created with world:anyone READ if the snapshot lacked it).
    mutating func setConfigNode(_ data: [UInt8]) {
        let path = DataTree.configZookeeper
        if tree.node(path) == nil {
            var stat = DataNode.zeroStat
            stat.aversion = -1
            tree.put(path, DataNode(data: data, acl: .readACLUnsafe, stat: stat))
            tree.update(DataTree.procZookeeper) { $0.children.insert("config") }
        } else {
            tree.update(path) { $0.data = data }
        }
    }
}
