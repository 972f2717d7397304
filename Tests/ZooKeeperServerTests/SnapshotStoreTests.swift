import Foundation
import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

@Suite struct SnapshotStoreTests {
    @Test func writeReadAndApacheFraming() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = SnapshotStore(directory: dir.dataDir)
        #expect(try store.newestValid() == nil)
        let tree = Array("opaque tree bytes".utf8)
        try store.write(zxid: 0x2a, tree: tree)
        try store.write(zxid: 0x100, tree: [])
        #expect(try store.list().map(\.zxid) == [0x100, 0x2a])
        #expect(dir.names(dir.snapDirectory) == ["snapshot.100", "snapshot.2a"])
        let newest = try store.newestValid()
        #expect(newest?.zxid == 0x100 && newest?.tree == [])

        let bytes = try readFile(dir.snapDirectory + "/snapshot.2a")
        var expected: [UInt8] = Array("ZKSN".utf8) + [0, 0, 0, 2] + [UInt8](repeating: 0, count: 8) + tree
        var seal = JuteWriter()
        seal.write(Int64(Adler32.checksum(expected)))
        seal.writeString("/")
        expected += seal.bytes
        #expect(bytes == expected)
        #expect(try store.read(.init(zxid: 0x2a, path: dir.snapDirectory + "/snapshot.2a")) == tree)
    }

    /// A snapshot cut at any length is detected and the previous one is used instead.
    @Test func truncatedAtEveryOffsetFallsBackToThePreviousSnapshot() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = SnapshotStore(directory: dir.dataDir)
        try store.write(zxid: 1, tree: [1])
        let tree = (0..<64).map { UInt8($0) }
        try store.write(zxid: 2, tree: tree)
        let path = dir.snapDirectory + "/snapshot.2"
        let full = try readFile(path)
        for cut in 0..<full.count {
            try writeFile(path, Array(full[0..<cut]))
            var skipped: [PersistenceError] = []
            let newest = try store.newestValid(skipped: &skipped)
            #expect(newest?.zxid == 1 && newest?.tree == [1], "cut at \(cut)")
            #expect(skipped.count == 1 && skipped.first?.kind == .corruptFile, "cut at \(cut)")
        }
        try writeFile(path, full)
        #expect(try store.newestValid()?.tree == tree)
    }

    @Test func garbageWrongMagicAndFlippedBitsGiveClearErrors() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = SnapshotStore(directory: dir.dataDir)
        try store.write(zxid: 5, tree: Array(repeating: 9, count: 100))
        let path = dir.snapDirectory + "/snapshot.5"
        let file = SnapshotStore.SnapshotFile(zxid: 5, path: path)
        let good = try readFile(path)

        var wrongMagic = good
        wrongMagic[3] = UInt8(ascii: "G")   // "ZKSG"
        try writeFile(path, wrongMagic)
        var error = #expect(throws: PersistenceError.self) { try store.read(file) }
        #expect(error?.kind == .corruptFile)
        #expect(error?.description.contains("invalid magic number") == true)
        #expect(error?.description.contains(path) == true)

        var flipped = good
        flipped[50] ^= 0x10
        try writeFile(path, flipped)
        error = #expect(throws: PersistenceError.self) { try store.read(file) }
        #expect(error?.message.contains("checksum mismatch") == true)

        try writeFile(path, Array("garbage that is long enough to look like a snapshot file".utf8))
        error = #expect(throws: PersistenceError.self) { try store.read(file) }
        #expect(error?.kind == .corruptFile)

        // Only damaged snapshots: recovery starts empty and says why.
        let state = try dir.recover()
        #expect(state.snapshotZxid == nil)
        #expect(state.warnings.map(\.kind) == [.invalidSnapshot])
    }

    @Test func recoveryRemovesTemporaryFilesLeftByACrash() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = SnapshotStore(directory: dir.dataDir)
        try store.write(zxid: 3, tree: [3])
        try writeFile(dir.snapDirectory + "/snapshot.9.tmp", [1, 2, 3])
        let state = try dir.recover()
        #expect(state.snapshotZxid == 3)
        #expect(dir.names(dir.snapDirectory) == ["snapshot.3"])
    }

    /// Snapshots are written from another thread while the log keeps committing.
    @Test func snapshotOnABackgroundThreadWhileTheLogCommits() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let log = try TxnLog(directory: dir.dataLogDir, forceSync: true, preallocationSize: 0)
        for zxid in Int64(1)...100 { try log.append(zxid: zxid, entry: makeEntry(zxid: zxid)) }
        try log.commit()
        try log.rollLog()
        let store = SnapshotStore(directory: dir.dataDir)
        let tree = [UInt8](repeating: 7, count: 1 << 20)
        let writer = Task.detached { try store.write(zxid: 100, tree: tree) }
        for zxid in Int64(101)...200 {
            try log.append(zxid: zxid, entry: makeEntry(zxid: zxid))
            try log.commit()
        }
        try await writer.value
        try log.close()
        let state = try dir.recover()
        #expect(state.snapshotZxid == 100 && state.snapshotTree == tree)
        #expect(state.zxids == Array(101...200))
    }
}
