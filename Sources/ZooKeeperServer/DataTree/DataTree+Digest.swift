import ZooKeeperProtocol

/// What comparing transaction digests with the tree found (Apache's `digest_mismatches_count`, plus the
/// number of digests actually compared, so a test can tell "no mismatch" from "nothing compared").
package struct DigestStatistics: Sendable, Hashable {
    /// Txn digests compared with the tree (present, digests on, same version).
    package var checked: Int64 = 0
    /// Of those, the ones that differed: `mntr`'s `zk_digest_mismatches_count`.
    package var mismatches: Int64 = 0
    /// The latest mismatch, for the log.
    package var lastMismatch: DigestMismatch?

    package init() {}
}

/// One txn whose digest differed from the tree's after applying it.
package struct DigestMismatch: Sendable, Hashable {
    package var zxid: Int64
    /// The digest the txn carried (the leader's tree after it).
    package var expected: Int64
    /// Ours after applying it.
    package var actual: Int64
}

// The tree digest (Apache's `NodeHashMapImpl` + `DataTree.compareDigest`): the sum of every node's digest,
// kept up to date by the storage primitives (`put`, `removeNode`, `update`), so each txn costs only the
// nodes it changes.
extension DataTree {
    /// The tree digest as a `TxnDigest` carries it (Java's long); 0 with digests off.
    package var treeDigest: Int64 { Int64(bitPattern: digestSum) }

    /// The `TxnDigest` a proposal carries after this tree applied it; nil with digests off (Apache then
    /// sends none).
    package var txnDigest: TxnDigest? {
        digestEnabled ? TxnDigest(version: DigestCalculator.version, treeDigest: treeDigest) : nil
    }

    /// The digest `node` contributes at `path`, from its cached prefix (0 when excluded or off).
    func nodeDigest(_ path: String, _ node: DataNode) -> UInt64 {
        guard digestEnabled, !DigestCalculator.isExcluded(path) else { return 0 }
        return DigestCalculator.digest(prefix: node.digestPrefix, stat: node.stat)
    }

    /// `DataTree.compareDigest`, after a txn is applied: skipped with digests off or another digest version;
    /// otherwise counted, and a difference is a mismatch (only counted and reported: nothing else happens,
    /// as in Apache).
    mutating func compareDigest(_ digest: TxnDigest, zxid: Int64) {
        guard digestEnabled, digest.version == DigestCalculator.version else { return }
        digestStatistics.checked += 1
        let actual = treeDigest
        if digest.treeDigest != actual {
            digestStatistics.mismatches += 1
            digestStatistics.lastMismatch = DigestMismatch(zxid: zxid, expected: digest.treeDigest, actual: actual)
        }
    }
}

/// `DataTree.ZxidDigest`: the tree digest at a zxid, written after a snapshot file's tree.
package struct SnapshotDigest: Sendable, Hashable {
    package var zxid: Int64
    package var version: Int32
    package var digest: Int64

    package init(zxid: Int64, version: Int32, digest: Int64) {
        self.zxid = zxid
        self.version = version
        self.digest = digest
    }
}

extension DataTree {
    /// The digest a snapshot of this tree records (nil with digests off: Apache then writes none).
    package var snapshotDigest: SnapshotDigest? {
        digestEnabled ? SnapshotDigest(zxid: lastProcessedZxid, version: DigestCalculator.version, digest: treeDigest) : nil
    }

    /// After loading a snapshot file: compares its recorded digest with the loaded tree when it is of the
    /// tree's own zxid (`FileSnap.deserialize` → `compareSnapshotDigests`). Ours always are: our snapshots are
    /// taken at one zxid, never fuzzy. A digest of another zxid or version is not compared.
    package mutating func compareSnapshotDigest(_ digest: SnapshotDigest) {
        guard digestEnabled, digest.zxid > 0, digest.zxid == lastProcessedZxid, digest.version == DigestCalculator.version else { return }
        compareDigest(TxnDigest(version: digest.version, treeDigest: digest.digest), zxid: digest.zxid)
    }
}
