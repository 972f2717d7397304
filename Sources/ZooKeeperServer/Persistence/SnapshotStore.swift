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
    /// `ZxidDigest{long zxid, int version, long digest}` and its seal, after the first seal.
    static let digestSectionSize = 8 + 4 + 8 + trailerSize

    package init(directory dataDir: String) {
        self.directory = PersistenceLayout.versionDirectory(of: dataDir)
    }

    /// Writes `snapshot.<zxid>` atomically and durably. `zxid` is the last transaction reflected in
    /// `tree` (Apache's `lastProcessedZxid` when serialization started). Overwrites an existing
    /// snapshot of the same zxid.
    package func write(zxid: Int64, tree: [UInt8], digest: SnapshotDigest? = nil) throws(PersistenceError) {
        try FileIO.makeDirectories(directory)
        let header = PersistenceLayout.fileHeader(magic: PersistenceLayout.snapshotMagic)
        var adler = Adler32()
        adler.update(header)
        adler.update(tree)
        var trailer = JuteWriter(capacity: Self.trailerSize + Self.digestSectionSize)
        trailer.write(Int64(adler.value))
        trailer.writeString("/")
        if let digest {
            // FileSnap.serialize with digests on: ZxidDigest, then a second seal over everything before it.
            var section = JuteWriter(capacity: Self.digestSectionSize)
            section.write(digest.zxid)
            section.write(digest.version)
            section.write(digest.digest)
            adler.update(trailer.bytes)
            adler.update(section.bytes)
            trailer.writeRaw(section.bytes)
            trailer.write(Int64(adler.value))
            trailer.writeString("/")
        }
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
        try readContents(file).tree
    }

    /// The tree bytes of `file` and the `ZxidDigest` after them, when it has one.
    package func readContents(_ file: SnapshotFile) throws(PersistenceError) -> (tree: [UInt8], digest: SnapshotDigest?) {
        let bytes = try FileIO.readAll(file.path)
        return try Self.decodeContents(bytes, path: file.path)
    }

    /// The newest snapshot that reads back whole, skipping (and reporting in `skipped`) damaged ones.
    package func newestValid(skipped: inout [PersistenceError]) throws(PersistenceError) -> (zxid: Int64, tree: [UInt8], digest: SnapshotDigest?)? {
        for file in try list() {
            do {
                let contents = try readContents(file)
                return (file.zxid, contents.tree, contents.digest)
            } catch where error.kind == .corruptFile {
                skipped.append(error)
            }
        }
        return nil
    }

    package func newestValid() throws(PersistenceError) -> (zxid: Int64, tree: [UInt8], digest: SnapshotDigest?)? {
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
        try decodeContents(bytes, path: path).tree
    }

    static func decodeContents(_ bytes: [UInt8], path: String) throws(PersistenceError) -> (tree: [UInt8], digest: SnapshotDigest?) {
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
        // One Adler32 pass serves both seals: up to where a first seal would start, then the rest.
        let firstSeal = treeEnd - digestSectionSize
        var adler = Adler32()
        let digestCandidate = firstSeal >= PersistenceLayout.fileHeaderSize
            && bytes[(firstSeal + 8)..<(firstSeal + trailerSize)].elementsEqual([0, 0, 0, 1, 0x2f])
        if digestCandidate { adler.update(bytes[0..<firstSeal]) }
        let firstChecksum = UInt64(adler.value)
        adler.update(bytes[(digestCandidate ? firstSeal : 0)..<treeEnd])
        let computed = UInt64(adler.value)
        guard stored == computed else {
            throw corrupt("checksum mismatch: stored \(stored), computed \(computed)")
        }
        if digestCandidate, UInt64(bigEndian: bytes[firstSeal..<firstSeal + 8]) == firstChecksum {
            var reader = JuteReader(Array(bytes[(firstSeal + trailerSize)..<treeEnd]))
            if let zxid = try? reader.readInt64(), let version = try? reader.readInt32(), let digest = try? reader.readInt64() {
                return (Array(bytes[PersistenceLayout.fileHeaderSize..<firstSeal]), SnapshotDigest(zxid: zxid, version: version, digest: digest))
            }
        }
        return (Array(bytes[PersistenceLayout.fileHeaderSize..<treeEnd]), nil)
    }
}
