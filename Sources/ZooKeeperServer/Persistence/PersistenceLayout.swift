import ZooKeeperProtocol

/// Apache ZooKeeper's on-disk names and framing constants (`Util.makeLogName`, `FileTxnLog`, `FileSnap`).
package enum PersistenceLayout {
    /// The subdirectory of `dataDir`/`dataLogDir` holding format-2 files.
    package static let versionDirectory = "version-2"
    package static let version: Int32 = 2
    /// "ZKLG" as a big-endian int (`FileTxnLog.TXNLOG_MAGIC`).
    package static let logMagic: Int32 = 0x5a4b_4c47
    /// "ZKSN" as a big-endian int (`FileSnap.SNAP_MAGIC`).
    package static let snapshotMagic: Int32 = 0x5a4b_534e
    /// FileHeader: magic int, version int, dbid long.
    package static let fileHeaderSize = 16
    /// The end-of-record byte after each log entry ('B').
    package static let endOfRecord: UInt8 = 0x42
    /// Largest log entry accepted or read back; a larger length field is corruption.
    package static let maxEntrySize = 64 << 20
    package static let logPrefix = "log"
    package static let snapshotPrefix = "snapshot"

    package static func versionDirectory(of base: String) -> String {
        base.hasSuffix("/") ? base + versionDirectory : base + "/" + versionDirectory
    }

    /// `log.<zxid in lowercase hex>` as Java's `Long.toHexString`.
    package static func logName(_ zxid: Int64) -> String { "\(logPrefix).\(hex(zxid))" }
    package static func snapshotName(_ zxid: Int64) -> String { "\(snapshotPrefix).\(hex(zxid))" }

    static func hex(_ zxid: Int64) -> String { String(UInt64(bitPattern: zxid), radix: 16) }

    /// The zxid in `<prefix>.<hex>`, or nil when the name is anything else (temporary and set-aside files).
    package static func zxid(fromName name: String, prefix: String) -> Int64? {
        let lead = prefix + "."
        guard name.hasPrefix(lead) else { return nil }
        let digits = name.dropFirst(lead.count)
        guard !digits.isEmpty, digits.count <= 16, digits.allSatisfy(\.isHexDigit),
              let value = UInt64(digits, radix: 16) else { return nil }
        return Int64(bitPattern: value)
    }

    /// `(zxid, name)` of every `<prefix>.<hex>` file in `directory`, oldest first.
    package static func files(in directory: String, prefix: String) throws(PersistenceError) -> [(zxid: Int64, name: String)] {
        try FileIO.list(directory)
            .compactMap { name in zxid(fromName: name, prefix: prefix).map { (zxid: $0, name: name) } }
            .sorted { $0.zxid < $1.zxid }
    }

    package static func fileHeader(magic: Int32) -> [UInt8] {
        FileHeader(magic: magic, version: version, dbid: 0).juteBytes()
    }

    /// Whether two consecutive zxids leave no transaction out: the next counter, or the first of a later epoch.
    package static func isContiguous(_ previous: Int64, _ next: Int64) -> Bool {
        if next == previous &+ 1 { return true }
        return (next >> 32) > (previous >> 32) && (next & 0xffff_ffff) <= 1
    }

    /// The zxid in an entry that starts with a jute TxnHeader (clientId long, cxid int, zxid long, ...).
    package static func zxid(ofEntry entry: [UInt8]) -> Int64? {
        guard entry.count >= 20 else { return nil }
        var value: UInt64 = 0
        for byte in entry[12..<20] { value = value << 8 | UInt64(byte) }
        return Int64(bitPattern: value)
    }
}
