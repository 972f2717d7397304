#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ZooKeeperProtocol

/// Snapshots as `<dataDir>/version-2/snapshot.<zxid hex>`: a FileHeader ("ZKSN", 2, dbid 0), the tree
/// bytes (opaque here), then Apache's seal — the Adler32 of everything before it as a long and the
/// jute string "/" (`FileSnap.serialize`, `SnapStream.sealStream`). A snapshot is written to
/// `snapshot.<hex>.tmp`, fsynced, renamed into place and the directory fsynced, so a crash leaves
/// either no snapshot or a whole one.
///
/// A value type holding only paths: every method may be called from any thread. Writing a snapshot
/// while the log keeps appending (on another thread) is the intended use.
package struct SnapshotStore: Sendable {
    /// `<dataDir>/version-2`.
    package let directory: String

    package struct SnapshotFile: Sendable, Equatable {
        package var zxid: Int64
        package var path: String
    }

    /// Seal after the tree: Adler32 as a long, then the jute string "/" (int 1, '/').
    static let trailerSize = 8 + 5
    static let minimumSize = PersistenceLayout.fileHeaderSize + trailerSize

    package init(directory dataDir: String) {
        self.directory = PersistenceLayout.versionDirectory(of: dataDir)
    }

    /// Writes `snapshot.<zxid>` atomically and durably. `zxid` is the last transaction reflected in
    /// `tree` (Apache's `lastProcessedZxid` when serialization started). Overwrites an existing
    /// snapshot of the same zxid.
    package func write(zxid: Int64, tree: [UInt8]) throws(PersistenceError) {
        try FileIO.makeDirectories(directory)
        let header = PersistenceLayout.fileHeader(magic: PersistenceLayout.snapshotMagic)
        var adler = Adler32()
        adler.update(header)
        adler.update(tree)
        var trailer = JuteWriter(capacity: Self.trailerSize)
        trailer.write(Int64(adler.value))
        trailer.writeString("/")
        let name = PersistenceLayout.snapshotName(zxid)
        try FileIO.writeAtomically(
            [header, tree, trailer.bytes],
            to: directory + "/" + name,
            temporary: directory + "/" + name + ".tmp"
        )
    }

    /// Every `snapshot.<hex>` file, newest first, without validating them.
    package func list() throws(PersistenceError) -> [SnapshotFile] {
        try PersistenceLayout.files(in: directory, prefix: PersistenceLayout.snapshotPrefix)
            .reversed()
            .map { SnapshotFile(zxid: $0.zxid, path: directory + "/" + $0.name) }
    }

    /// The tree bytes of `file`, after checking header, seal and checksum; a clear
    /// ``PersistenceError/Kind/corruptFile`` error otherwise.
    package func read(_ file: SnapshotFile) throws(PersistenceError) -> [UInt8] {
        let bytes = try FileIO.readAll(file.path)
        return try Self.decode(bytes, path: file.path)
    }

    /// The newest snapshot that reads back whole, skipping (and reporting in `skipped`) damaged ones.
    package func newestValid(skipped: inout [PersistenceError]) throws(PersistenceError) -> (zxid: Int64, tree: [UInt8])? {
        for file in try list() {
            do {
                return (file.zxid, try read(file))
            } catch where error.kind == .corruptFile {
                skipped.append(error)
            }
        }
        return nil
    }

    package func newestValid() throws(PersistenceError) -> (zxid: Int64, tree: [UInt8])? {
        var skipped: [PersistenceError] = []
        return try newestValid(skipped: &skipped)
    }

    /// Up to `limit` snapshots that validate, newest first (Apache's `findNValidSnapshots`).
    package func validSnapshots(limit: Int) throws(PersistenceError) -> [SnapshotFile] {
        var found: [SnapshotFile] = []
        for file in try list() where found.count < limit {
            do {
                _ = try read(file)
                found.append(file)
            } catch where error.kind == .corruptFile {
                continue
            }
        }
        return found
    }

    /// Removes `snapshot.*.tmp` left by a crash mid-write. Only when no snapshot is being written.
    package func removeTemporaryFiles() throws(PersistenceError) {
        for name in try FileIO.list(directory) where name.hasPrefix(PersistenceLayout.snapshotPrefix + ".") && name.hasSuffix(".tmp") {
            try FileIO.remove(directory + "/" + name)
        }
    }

    static func decode(_ bytes: [UInt8], path: String) throws(PersistenceError) -> [UInt8] {
        func corrupt(_ message: String) -> PersistenceError {
            PersistenceError(.corruptFile, path: path, "snapshot: " + message)
        }
        guard bytes.count >= minimumSize else {
            throw corrupt("truncated (\(bytes.count) bytes, at least \(minimumSize) needed)")
        }
        guard let header = try? FileHeader(juteBytes: Array(bytes[0..<PersistenceLayout.fileHeaderSize])) else {
            throw corrupt("unreadable FileHeader")
        }
        guard header.magic == PersistenceLayout.snapshotMagic else {
            throw corrupt("invalid magic number \(header.magic) != \(PersistenceLayout.snapshotMagic) (ZKSN)")
        }
        guard header.version == PersistenceLayout.version else {
            throw corrupt("unsupported version \(header.version)")
        }
        let treeEnd = bytes.count - trailerSize
        guard bytes[(treeEnd + 8)...].elementsEqual([0, 0, 0, 1, 0x2f]) else {
            throw corrupt("missing \"/\" seal at the end: truncated or not a snapshot")
        }
        let stored = UInt64(bigEndian: bytes[treeEnd..<treeEnd + 8])
        let computed = UInt64(Adler32.checksum(bytes[0..<treeEnd]))
        guard stored == computed else {
            throw corrupt("checksum mismatch: stored \(stored), computed \(computed)")
        }
        return Array(bytes[PersistenceLayout.fileHeaderSize..<treeEnd])
    }
}
