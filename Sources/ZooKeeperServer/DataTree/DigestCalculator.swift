import ZooKeeperProtocol

/// The per-node digest of Apache ZooKeeper 3.8 (`DigestCalculator`, digest version 2), which the tree
/// digest sums (``DataTree/treeDigest``).
///
/// A node's digest is the CRC32 (zlib polynomial, `java.util.zip.CRC32`) of its path's UTF-8 bytes, its
/// data, then a 60-byte big-endian block `czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion,
/// ephemeralOwner` — not the `StatPersisted` order. The root counts under the path "" (Apache maps "/" to
/// ""), and every path starting with `/zookeeper/` counts 0 (quota nodes are updated locally on each
/// server); `/zookeeper` itself is included.
///
/// The CRC is split in two so that a stat-only change (a parent gaining a child) costs 60 bytes, not the
/// node's data again: ``prefix(path:data:)`` is the CRC register after path and data, kept per node, and
/// ``digest(prefix:stat:)`` finishes it with the stat.
package enum DigestCalculator {
    /// `DigestCalculator.DIGEST_VERSION`: a `TxnDigest` of any other version is not compared.
    package static let version: Int32 = 2

    /// `ZooDefs.ZOOKEEPER_NODE_SUBTREE`: nodes below it are left out of the tree digest.
    static let excludedPrefix = "/zookeeper/"

    /// Whether `path` is left out of the digest (counts 0).
    @inline(__always)
    package static func isExcluded(_ path: String) -> Bool {
        path.utf8.starts(with: excludedPrefix.utf8)
    }

    /// The CRC register after the path and the data (a node's cached half of its digest).
    package static func prefix(path: String, data: [UInt8]) -> UInt32 {
        var crc = CRC32.initial
        // Apache maps "/" to "": the root hashes as the empty path.
        if path != "/" {
            var path = path
            path.withUTF8 { crc = CRC32.update(crc, $0) }
        }
        data.withUnsafeBufferPointer { crc = CRC32.update(crc, $0) }
        return crc
    }

    /// Finishes a node's digest: the stat block, then the final inversion.
    package static func digest(prefix: UInt32, stat: StatPersisted) -> UInt64 {
        // The 60-byte block on the stack, big-endian as Java's ByteBuffer writes it, then one CRC pass.
        var block: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &block) { raw -> UInt64 in
            raw.storeBytes(of: UInt64(bitPattern: stat.czxid).bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: UInt64(bitPattern: stat.mzxid).bigEndian, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: UInt64(bitPattern: stat.pzxid).bigEndian, toByteOffset: 16, as: UInt64.self)
            raw.storeBytes(of: UInt64(bitPattern: stat.ctime).bigEndian, toByteOffset: 24, as: UInt64.self)
            raw.storeBytes(of: UInt64(bitPattern: stat.mtime).bigEndian, toByteOffset: 32, as: UInt64.self)
            raw.storeBytes(of: UInt32(bitPattern: stat.version).bigEndian, toByteOffset: 40, as: UInt32.self)
            raw.storeBytes(of: UInt32(bitPattern: stat.cversion).bigEndian, toByteOffset: 44, as: UInt32.self)
            raw.storeBytes(of: UInt32(bitPattern: stat.aversion).bigEndian, toByteOffset: 48, as: UInt32.self)
            raw.storeBytes(of: UInt64(bitPattern: stat.ephemeralOwner).bigEndian, toByteOffset: 52, as: UInt64.self)
            let bytes = UnsafeBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count: statBlockSize)
            return UInt64(~CRC32.update(prefix, bytes))
        }
    }

    /// czxid, mzxid, pzxid, ctime, mtime (8 bytes each), version, cversion, aversion (4), ephemeralOwner (8).
    static let statBlockSize = 60

    /// A node's digest from scratch (0 for an excluded path), as Apache's `calculateDigest`.
    package static func digest(path: String, data: [UInt8], stat: StatPersisted) -> UInt64 {
        if isExcluded(path) { return 0 }
        return digest(prefix: prefix(path: path, data: data), stat: stat)
    }

    /// The tree digest of `nodes` from scratch (a walk; the tree keeps it incrementally).
    package static func treeDigest(_ nodes: [String: DataNode]) -> UInt64 {
        var sum: UInt64 = 0
        for (path, node) in nodes { sum &+= digest(path: path, data: node.data, stat: node.stat) }
        return sum
    }
}

/// CRC-32 with the zlib/`java.util.zip.CRC32` polynomial (reflected 0xEDB88320), slice-by-8.
enum CRC32 {
    /// The register before any byte (the value is the register's complement at the end).
    static let initial: UInt32 = 0xFFFF_FFFF

    /// Eight 256-entry tables: `tables[k * 256 + b]` is byte b's contribution k bytes further on.
    static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            tables[byte] = crc
        }
        for k in 1..<8 {
            for byte in 0..<256 {
                let previous = tables[(k - 1) * 256 + byte]
                tables[k * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    static func update(_ crc: UInt32, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return crc }
        var crc = crc
        var index = 0
        let count = bytes.count
        tables.withUnsafeBufferPointer { table in
            let raw = UnsafeRawPointer(base)
            while count - index >= 8 {
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                let low = crc ^ UInt32(truncatingIfNeeded: word)
                let high = UInt32(truncatingIfNeeded: word >> 32)
                crc = table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((low >> 16) & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(high & 0xFF)] ^ table[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ table[256 + Int((high >> 16) & 0xFF)] ^ table[Int(high >> 24)]
                index += 8
            }
            while index < count {
                crc = (crc >> 8) ^ table[Int((crc ^ UInt32(base[index])) & 0xFF)]
                index += 1
            }
        }
        return crc
    }

    /// The CRC-32 of `bytes` (for tests: "123456789" → 0xCBF43926).
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        ~bytes.withUnsafeBufferPointer { update(initial, $0) }
    }
}
