import ZooKeeperProtocol

/// A watch event for one session, in the order Apache's `DataTree` produces them.
package struct WatchNotification: Sendable, Hashable {
    package var sessionId: Int64
    package var event: WatcherEvent
    /// The ACL of the node the event is about: the event is delivered only to a connection with READ
    /// on it (3.8.4 / CVE-2024-23944, `ServerCnxn.process(event, znodeAcl)`; the watch is consumed
    /// either way). nil: no check (SetWatches catch-up events, as in Apache).
    package var acl: [ACL]?

    package init(sessionId: Int64, type: EventType, path: String, acl: [ACL]? = nil) {
        self.sessionId = sessionId
        self.event = WatcherEvent(type: type.rawValue, state: KeeperState.syncConnected.rawValue, path: path)
        self.acl = acl
    }
}

/// The in-memory tree (Apache's `DataTree`): nodes, the ephemeral/container/TTL indexes, quota
/// bookkeeping and the two watch tables. Pure and single-threaded; ``ZooKeeperDatabase`` drives it.
package struct DataTree: Sendable {
    package static let procZookeeper = "/zookeeper"
    package static let quotaZookeeper = "/zookeeper/quota"
    package static let configZookeeper = "/zookeeper/config"

    /// Nodes by full path. Apache also keeps "" as an alias of "/"; ``node(_:)`` resolves it.
    package private(set) var nodes: [String: DataNode] = [:]
    package var extendedTypesEnabled: Bool
    package internal(set) var ephemerals: [Int64: Set<String>] = [:]
    package internal(set) var containers: Set<String> = []
    package internal(set) var ttls: Set<String> = []
    /// Paths with a quota (`zookeeper_limits` node present): Apache's `PathTrie`.
    package internal(set) var quotaPaths: Set<String> = []
    package internal(set) var dataWatches = WatchTable()
    package internal(set) var childWatches = WatchTable()
    package internal(set) var lastProcessedZxid: Int64 = 0
    /// Σ (UTF-16 path length + data length) over all nodes (`DataTree.approximateDataSize`).
    package internal(set) var approximateDataSize = 0
    /// Events produced by the mutations since the last ``drainNotifications()``.
    var pendingNotifications: [WatchNotification] = []
    /// Σ node digests mod 2^64 (Apache's `NodeHashMapImpl` AdHash), kept as nodes change; 0 with digests off.
    package private(set) var digestSum: UInt64 = 0
    /// `zookeeper.digest.enabled`: whether the tree digest is kept (and txn digests compared).
    package private(set) var digestEnabled = true
    /// What comparing txn digests found (``compareDigest(_:zxid:)``).
    package internal(set) var digestStatistics = DigestStatistics()

    /// The tree a fresh standalone 3.8 server starts with: `/`, `/zookeeper`, `/zookeeper/quota`
    /// (all-zero stats, world:anyone ALL, no data) and `/zookeeper/config` (world:anyone READ,
    /// aversion -1 because Apache sets its ACL with version -1; no data in standalone mode).
    package init(extendedTypesEnabled: Bool) {
        self.extendedTypesEnabled = extendedTypesEnabled
        let open: [ACL] = .openACLUnsafe
        put("/", DataNode(data: [], acl: open, stat: DataNode.zeroStat, children: ["zookeeper"]))
        put(Self.procZookeeper, DataNode(data: [], acl: open, stat: DataNode.zeroStat, children: ["quota", "config"]))
        put(Self.quotaZookeeper, DataNode(data: [], acl: open, stat: DataNode.zeroStat))
        var configStat = DataNode.zeroStat
        configStat.aversion = -1
        put(Self.configZookeeper, DataNode(data: [], acl: .readACLUnsafe, stat: configStat))
    }

    /// Restores nodes (e.g. from a snapshot) and rebuilds every index from them.
    package init(extendedTypesEnabled: Bool, nodes: [String: DataNode], lastProcessedZxid: Int64) {
        self.extendedTypesEnabled = extendedTypesEnabled
        self.lastProcessedZxid = lastProcessedZxid
        for (path, node) in nodes { put(path, node) }
        for path in nodes.keys {
            if childName(path) == Quotas.limitNode, let parent = javaParentPath(path),
                parent.hasPrefix(Self.quotaZookeeper)
            {
                quotaPaths.insert(Quotas.trimQuotaPath(parent))
            }
        }
    }

    /// The node at `path`; "" is Apache's alias of the root.
    package func node(_ path: String) -> DataNode? {
        nodes[path.isEmpty ? "/" : path]
    }

    /// The node count Apache reports (`srvr` "Node count", `mntr` `zk_znode_count`): its map holds
    /// the root twice ("" and "/"), so this is one more than the number of znodes.
    package var nodeCount: Int { nodes.count + 1 }

    package var ephemeralCount: Int { ephemerals.values.reduce(0) { $0 + $1.count } }

    package func ephemerals(of session: Int64) -> Set<String> { ephemerals[session] ?? [] }

    /// `getAllChildrenNumber`: every descendant; for "/" Apache answers `nodes.size() - 2`.
    package func allChildrenNumber(_ path: String) -> Int {
        if path == "/" { return nodeCount - 2 }
        let prefix = path + "/"
        return nodes.keys.reduce(0) { $0 + ($1.hasPrefix(prefix) ? 1 : 0) }
    }

    package func kind(of node: DataNode) -> EphemeralKind {
        EphemeralKind(owner: node.stat.ephemeralOwner, extendedTypesEnabled: extendedTypesEnabled)
    }

    package mutating func drainNotifications() -> [WatchNotification] {
        defer { pendingNotifications = [] }
        return pendingNotifications
    }

    // MARK: - Storage primitives (keep the indexes in step)

    mutating func put(_ path: String, _ node: DataNode) {
        var node = node
        if let old = nodes[path] {
            approximateDataSize -= Self.size(path, old.data)
            digestSum &-= nodeDigest(path, old)
        }
        if digestEnabled && !DigestCalculator.isExcluded(path) {
            node.digestPrefix = DigestCalculator.prefix(path: path, data: node.data)
            digestSum &+= DigestCalculator.digest(prefix: node.digestPrefix, stat: node.stat)
        }
        nodes[path] = node
        approximateDataSize += Self.size(path, node.data)
        switch kind(of: node) {
        case .container: containers.insert(path)
        case .ttl: ttls.insert(path)
        case .normal: ephemerals[node.stat.ephemeralOwner, default: []].insert(path)
        case .void: break
        }
    }

    @discardableResult
    mutating func removeNode(_ path: String) -> DataNode? {
        guard let node = nodes.removeValue(forKey: path) else { return nil }
        approximateDataSize -= Self.size(path, node.data)
        digestSum &-= nodeDigest(path, node)
        switch kind(of: node) {
        case .container: containers.remove(path)
        case .ttl: ttls.remove(path)
        case .normal:
            let owner = node.stat.ephemeralOwner
            ephemerals[owner]?.remove(path)
            if ephemerals[owner]?.isEmpty == true { ephemerals[owner] = nil }
        case .void: break
        }
        return node
    }

    /// Changes a node in place (data, stat, ACL, children); the indexes do not change.
    ///
    /// In place matters: copying the node out and back would copy its children set on every insert
    /// (it is shared with the dictionary), making each create O(children) and a busy parent quadratic.
    /// Room for `count` nodes in all, so that replaying a long log does not rehash the node map
    /// again and again as it grows (a fifth of a 1,000,000-create replay went to resizing).
    mutating func reserveCapacity(_ count: Int) {
        if count > nodes.capacity { nodes.reserveCapacity(count) }
    }

    mutating func update(_ path: String, _ change: (inout DataNode) -> Void) {
        guard let index = nodes.index(forKey: path) else { return }
        approximateDataSize -= Self.size(path, nodes.values[index].data)
        let counted = digestEnabled && !DigestCalculator.isExcluded(path)
        // Holding the old data shares its buffer (no copy); unchanged data compares by identity.
        let oldData = nodes.values[index].data
        if counted { digestSum &-= DigestCalculator.digest(prefix: nodes.values[index].digestPrefix, stat: nodes.values[index].stat) }
        change(&nodes.values[index])
        approximateDataSize += Self.size(path, nodes.values[index].data)
        if counted {
            if nodes.values[index].data != oldData {
                nodes.values[index].digestPrefix = DigestCalculator.prefix(path: path, data: nodes.values[index].data)
            }
            digestSum &+= DigestCalculator.digest(prefix: nodes.values[index].digestPrefix, stat: nodes.values[index].stat)
        }
    }

    mutating func notify(_ sessions: [Int64], _ type: EventType, _ path: String, acl: [ACL]? = nil) {
        for session in sessions {
            pendingNotifications.append(WatchNotification(sessionId: session, type: type, path: path, acl: acl))
        }
    }

    static func size(_ path: String, _ data: [UInt8]) -> Int { path.utf16.count + data.count }

    /// Turns digests on or off (`zookeeper.digest.enabled`); turning them on hashes the whole tree once.
    package mutating func setDigestEnabled(_ enabled: Bool) {
        guard enabled != digestEnabled else { return }
        digestEnabled = enabled
        digestSum = 0
        guard enabled else { return }
        for index in nodes.indices {
            let path = nodes.keys[index]
            guard !DigestCalculator.isExcluded(path) else { continue }
            let prefix = DigestCalculator.prefix(path: path, data: nodes.values[index].data)
            nodes.values[index].digestPrefix = prefix
            digestSum &+= DigestCalculator.digest(prefix: prefix, stat: nodes.values[index].stat)
        }
    }
}
