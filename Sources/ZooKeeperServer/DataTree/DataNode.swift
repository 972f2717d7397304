import ZooKeeperProtocol

/// One znode as the server stores it (Apache's `DataNode`): data, ACL, the persisted stat and the
/// names of its children.
///
/// Notable behaviours (all Apache's, `DataNode.copyStat`):
/// - `stat.cversion` counts child *creations* only; a delete never bumps it. Clients see
///   `cversion * 2 - numChildren` (every create is assumed to be paired with a delete except for the
///   children still present), so a fresh `/zookeeper` (two children, no creates) reports -2.
/// - Clients see `ephemeralOwner` 0 for container and TTL nodes.
package struct DataNode: Sendable, Hashable {
    package var data: [UInt8]
    package var acl: [ACL]
    package var stat: StatPersisted
    package var children: Set<String>
    /// The CRC register after this node's path and data (``DigestCalculator/prefix(path:data:)``), kept by
    /// ``DataTree`` while digests are on so that a stat-only change re-hashes 60 bytes, not the data. A cache:
    /// not part of the node's value (``==`` and ``hash(into:)`` ignore it).
    var digestPrefix: UInt32 = 0

    package init(data: [UInt8], acl: [ACL], stat: StatPersisted, children: Set<String> = []) {
        self.data = data
        self.acl = acl
        self.stat = stat
        self.children = children
    }

    package static func == (lhs: DataNode, rhs: DataNode) -> Bool {
        lhs.data == rhs.data && lhs.acl == rhs.acl && lhs.stat == rhs.stat && lhs.children == rhs.children
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(data)
        hasher.combine(acl)
        hasher.combine(stat)
        hasher.combine(children)
    }

    /// The `Stat` a client sees (`DataNode.copyStat`).
    package func clientStat(extendedTypesEnabled: Bool) -> Stat {
        let numChildren = Int32(truncatingIfNeeded: children.count)
        let kind = EphemeralKind(owner: stat.ephemeralOwner, extendedTypesEnabled: extendedTypesEnabled)
        return Stat(
            czxid: stat.czxid, mzxid: stat.mzxid, ctime: stat.ctime, mtime: stat.mtime,
            version: stat.version, cversion: stat.cversion &* 2 &- numChildren, aversion: stat.aversion,
            ephemeralOwner: kind == .normal ? stat.ephemeralOwner : 0,
            dataLength: Int32(truncatingIfNeeded: data.count), numChildren: numChildren, pzxid: stat.pzxid)
    }

    /// `DataTree.createStat`.
    package static func newStat(zxid: Int64, time: Int64, ephemeralOwner: Int64) -> StatPersisted {
        StatPersisted(
            czxid: zxid, mzxid: zxid, ctime: time, mtime: time, version: 0, cversion: 0, aversion: 0,
            ephemeralOwner: ephemeralOwner, pzxid: zxid)
    }

    /// The all-zero stat of the nodes the tree starts with.
    package static let zeroStat = StatPersisted(
        czxid: 0, mzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0, pzxid: 0)
}

/// What an `ephemeralOwner` value means (Apache's `EphemeralType`).
package enum EphemeralKind: Sendable, Hashable {
    /// 0: a persistent node.
    case void
    /// A session id: an ephemeral node.
    case normal
    /// `0x8000000000000000`.
    case container
    /// `0xFF…` with the TTL in the low 40 bits; recognised only with extended types enabled
    /// (otherwise Apache reads such an owner as a session id, and so do we).
    case ttl

    package init(owner: Int64, extendedTypesEnabled: Bool) {
        if extendedTypesEnabled, owner & EphemeralOwner.ttlMask == EphemeralOwner.ttlMask {
            // Reserved bits 40..<56 select the extended feature; only 0 (TTL) exists.
            self = (owner >> 40) & 0xFFFF == 0 ? .ttl : .normal
            return
        }
        if owner == EphemeralOwner.container {
            self = .container
        } else {
            self = owner == 0 ? .void : .normal
        }
    }

    /// `EphemeralType.TTL.toEphemeralOwner`; nil when the ttl is out of range (1...maxTTL).
    package static func ttlOwner(_ ttl: Int64) -> Int64? {
        guard ttl > 0, ttl <= EphemeralOwner.maxTTL else { return nil }
        return EphemeralOwner.ttlMask | ttl
    }

    /// The TTL in a TTL node's owner.
    package static func ttl(ofOwner owner: Int64) -> Int64 {
        owner & EphemeralOwner.maxTTL
    }
}

/// The Java-style parent of a path: everything before the last slash ("" for a child of the root).
/// Apache keeps "" as an alias of "/" in its node map; ``DataTree`` normalises it.
package func javaParentPath(_ path: String) -> String? {
    guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return nil }
    return String(path[..<slash])
}

/// The child name after the last slash.
package func childName(_ path: String) -> String {
    guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
    return String(path[path.utf8.index(after: slash)...])
}
