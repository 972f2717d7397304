import Foundation
import Testing
@testable import ZooKeeperServer

@Suite struct RecoveryTests {
    @Test func freshStartWithNoDirectories() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let state = try dir.recover()
        #expect(state.snapshotZxid == nil && state.snapshotTree == nil)
        #expect(state.entries.isEmpty && state.lastZxid == 0 && state.warnings.isEmpty)
        try writeLog(dir, zxids: [1])
        #expect(try dir.recover().zxids == [1])

        let empty = try TemporaryDirectory()
        defer { empty.remove() }
        try FileManager.default.createDirectory(atPath: empty.logDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: empty.snapDirectory, withIntermediateDirectories: true)
        let emptyState = try empty.recover(strict: true)
        #expect(emptyState.entries.isEmpty && emptyState.lastZxid == 0 && emptyState.warnings.isEmpty)
    }

    /// dataLogDir defaults to dataDir: logs and snapshots share one version-2 directory.
    @Test func logsAndSnapshotsInOneDirectory() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let log = try TxnLog(directory: dir.path, forceSync: true, preallocationSize: 0)
        for zxid in Int64(1)...6 {
            try log.append(zxid: zxid, entry: makeEntry(zxid: zxid))
            try log.commit()
            if zxid == 3 {
                try log.rollLog()
                try SnapshotStore(directory: dir.path).write(zxid: 3, tree: [3])
            }
        }
        try log.close()
        #expect(dir.names(dir.path + "/version-2") == ["log.1", "log.4", "snapshot.3"])
        let state = try Recovery.recover(dataDir: dir.path, dataLogDir: dir.path, strict: true)
        #expect(state.snapshotZxid == 3 && state.zxids == [4, 5, 6] && state.warnings.isEmpty)
        try Purger.purge(dataDir: dir.path, dataLogDir: dir.path, retainCount: 1)
        #expect(dir.names(dir.path + "/version-2") == ["log.1", "log.4", "snapshot.3"])
    }

    /// A crash part-way through the last record, at every byte: exactly the complete records come
    /// back, the file is cut at the last of them, and appends then continue cleanly.
    @Test(arguments: [false, true]) func tornLastRecordAtEveryOffset(zeroFilledTail: Bool) throws {
        let source = try TemporaryDirectory()
        defer { source.remove() }
        try writeLog(source, zxids: 1...5)
        let full = try readFile(source.logDirectory + "/log.1")
        let lastRecordStart = full.count - (12 + makeEntry(zxid: 5).count + 1)

        for cut in lastRecordStart..<full.count {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            try FileManager.default.createDirectory(atPath: dir.logDirectory, withIntermediateDirectories: true)
            var bytes = Array(full[0..<cut])
            if zeroFilledTail { bytes += [UInt8](repeating: 0, count: 4096) }
            try writeFile(dir.logDirectory + "/log.1", bytes)

            let state = try dir.recover()
            #expect(state.zxids == [1, 2, 3, 4], "cut at \(cut)")
            #expect(state.lastZxid == 4)
            #expect(state.warnings.allSatisfy { $0.kind == .tornTail }, "cut at \(cut): \(state.warnings)")
            if cut > lastRecordStart && !zeroFilledTail {
                #expect(try FileIO.fileSize(dir.logDirectory + "/log.1") == lastRecordStart)
            }

            try writeLog(dir, zxids: 5...6, lastZxid: state.lastZxid)
            let again = try dir.recover()
            #expect(again.zxids == [1, 2, 3, 4, 5, 6], "cut at \(cut)")
            #expect(again.warnings.isEmpty, "cut at \(cut): \(again.warnings)")
        }
    }

    /// A crash while the file header itself was being written: the empty file is removed.
    @Test func tornFileHeaderAtEveryOffset() throws {
        for cut in 0..<16 {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            try writeLog(dir, zxids: [1])
            let path = dir.logDirectory + "/log.1"
            try FileIO.truncate(path, to: cut)
            let state = try dir.recover()
            #expect(state.entries.isEmpty && state.lastZxid == 0)
            #expect(state.warnings.map(\.kind) == [.tornTail])
            #expect(!FileIO.exists(path))
            try writeLog(dir, zxids: [1, 2])
            #expect(try dir.recover().zxids == [1, 2])
        }
    }

    /// The same tear with zeros after it (pages that never reached the disk): still a header cut short,
    /// not an unsupported version or a bad magic number, in strict mode too. From 8 bytes on, what is left
    /// is our whole header (its dbid is 0) over a zero-filled log: an empty log, nothing to warn about.
    @Test func tornFileHeaderFollowedByZerosAtEveryOffset() throws {
        for cut in 1..<16 {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            try writeLog(dir, zxids: [1])
            let path = dir.logDirectory + "/log.1"
            try writeFile(path, Array(try readFile(path).prefix(cut)) + [UInt8](repeating: 0, count: 512))
            let state = try dir.recover(strict: true)
            #expect(state.entries.isEmpty && state.lastZxid == 0, "cut at \(cut)")
            #expect(state.warnings.map(\.kind) == (cut < 8 ? [.tornTail] : []), "cut at \(cut)")
        }
        // A header that is not ours (another version) is still refused, zeros after it or not.
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try writeLog(dir, zxids: [1])
        let path = dir.logDirectory + "/log.1"
        var bytes = Array(try readFile(path).prefix(16))
        bytes[7] = 3  // version 3
        try writeFile(path, bytes + [UInt8](repeating: 0, count: 512))
        #expect(throws: (any Error).self) { try dir.recover(strict: true) }
    }

    /// Damage followed by more data is corruption, not a torn write: replay stops before it, says
    /// so, keeps a copy of the damaged file, and the log continues cleanly after the last good record.
    @Test func corruptChecksumInTheMiddleStopsReplay() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try writeLog(dir, zxids: 1...10)
        try writeLog(dir, zxids: 11...20, lastZxid: 10)   // a second file, log.b
        let path = dir.logDirectory + "/log.1"
        var bytes = try readFile(path)
        let recordSize = 12 + makeEntry(zxid: 1).count + 1
        let fifthRecord = 16 + 4 * recordSize
        bytes[fifthRecord + 12 + 40] ^= 0x01   // a payload bit of zxid 5
        try writeFile(path, bytes)

        // Strict: refuses, like Apache's "CRC check failed", and changes nothing.
        let error = #expect(throws: PersistenceError.self) { try dir.recover(strict: true) }
        #expect(error?.kind == .corruptLog)
        #expect(error?.description.contains("checksum mismatch") == true)
        #expect(dir.names(dir.logDirectory) == ["log.1", "log.b"])

        let state = try dir.recover()
        #expect(state.zxids == [1, 2, 3, 4])
        #expect(state.lastZxid == 4)
        let corrupt = state.warnings.filter { $0.kind == .corruptLog }
        #expect(corrupt.count == 1)
        #expect(corrupt.first?.message.contains("checksum mismatch (CRC check failed) at offset \(fifthRecord)") == true)
        #expect(corrupt.first?.message.contains("1 later log file(s) not replayed") == true)
        #expect(dir.names(dir.logDirectory) == ["log.1", "log.1.corrupt", "log.b.discarded"])
        #expect(try readFile(dir.logDirectory + "/log.1.corrupt") == bytes)
        #expect(try FileIO.fileSize(path) == fifthRecord)

        try writeLog(dir, zxids: 5...7, lastZxid: 4)
        let again = try dir.recover()
        #expect(again.zxids == Array(1...7))
        #expect(again.warnings.isEmpty)
    }

    @Test func corruptRecordBeforeTheSnapshotIsSkippedWhenTheNextFileContinues() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try writeLog(dir, zxids: 1...10)
        try SnapshotStore(directory: dir.dataDir).write(zxid: 10, tree: [1, 2, 3])
        try writeLog(dir, zxids: 11...15, lastZxid: 10)
        let path = dir.logDirectory + "/log.1"
        var bytes = try readFile(path)
        bytes[16 + 3] ^= 0xff   // the checksum of zxid 1
        try writeFile(path, bytes)
        let state = try dir.recover(strict: true)
        #expect(state.snapshotZxid == 10 && state.snapshotTree == [1, 2, 3])
        #expect(state.zxids == Array(11...15))
        #expect(state.warnings.map(\.kind) == [.corruptLog])
        #expect(dir.names(dir.logDirectory) == ["log.1", "log.b"])
    }

    @Test func wrongMagicGarbageAndDataAfterTheEndMarker() throws {
        // A log file that is not a log: strict refuses, default sets it aside.
        do {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            try FileManager.default.createDirectory(atPath: dir.logDirectory, withIntermediateDirectories: true)
            try writeFile(dir.logDirectory + "/log.1", Array("this is not a transaction log at all".utf8))
            let error = #expect(throws: PersistenceError.self) { try dir.recover(strict: true) }
            #expect(error?.message.contains("invalid magic number") == true)
            let state = try dir.recover()
            #expect(state.entries.isEmpty && state.lastZxid == 0)
            #expect(state.warnings.map(\.kind) == [.corruptLog, .setAside])
            #expect(dir.names(dir.logDirectory) == ["log.1.corrupt"])
            try writeLog(dir, zxids: [1])
            #expect(try dir.recover().zxids == [1])
        }
        // Zeros (the end marker) followed by data: not a torn write, so it is reported.
        do {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            try writeLog(dir, zxids: 1...3)
            let path = dir.logDirectory + "/log.1"
            try writeFile(path, try readFile(path) + [UInt8](repeating: 0, count: 100) + [7, 7, 7])
            let state = try dir.recover()
            #expect(state.zxids == [1, 2, 3])
            #expect(state.warnings.first?.kind == .corruptLog)
            #expect(state.warnings.first?.message.contains("empty record with data after it") == true)
        }
        // Random bytes after good records (a length far beyond any entry): corruption, never a crash.
        do {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            try writeLog(dir, zxids: 1...3)
            let path = dir.logDirectory + "/log.1"
            var generator = SystemRandomNumberGenerator()
            try writeFile(path, try readFile(path) + [0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff] + (0..<500).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let state = try dir.recover()
            #expect(state.zxids == [1, 2, 3])
            #expect(state.warnings.first?.message.contains("unreasonable entry length") == true)
        }
    }

    /// A fuzzy snapshot: entries up to its zxid are in the log too and must not be replayed again.
    @Test func entriesStraddlingTheSnapshotAreSkippedUpToItsZxid() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try writeLog(dir, zxids: 1...20)
        try SnapshotStore(directory: dir.dataDir).write(zxid: 12, tree: Array("tree@12".utf8))
        let state = try dir.recover()
        #expect(state.snapshotZxid == 12)
        #expect(state.snapshotTree == Array("tree@12".utf8))
        #expect(state.zxids == Array(13...20))
        #expect(state.lastZxid == 20)
        #expect(state.warnings.isEmpty)
    }

    @Test func damagedNewestSnapshotFallsBackToAnOlderOne() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let store = SnapshotStore(directory: dir.dataDir)
        try writeLog(dir, zxids: 1...5)
        try store.write(zxid: 5, tree: [5])
        try writeLog(dir, zxids: 6...15, lastZxid: 5)
        try store.write(zxid: 15, tree: [15, 15, 15])
        try writeLog(dir, zxids: 16...18, lastZxid: 15)
        try FileIO.truncate(store.directory + "/snapshot.f", to: 20)

        let state = try dir.recover()
        #expect(state.snapshotZxid == 5 && state.snapshotTree == [5])
        #expect(state.zxids == Array(6...18))
        #expect(state.warnings.map(\.kind) == [.invalidSnapshot])
        #expect(state.warnings.first?.message.contains("truncated") == true)
    }

    /// Several log files, the snapshot in the middle of one: replay starts in the file holding it.
    @Test func multipleLogFilesAroundASnapshot() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try writeLog(dir, zxids: 1...30, rollBefore: [11, 21])
        #expect(dir.names(dir.logDirectory) == ["log.1", "log.15", "log.b"])
        try SnapshotStore(directory: dir.dataDir).write(zxid: 15, tree: [])
        // log.1 is not even read: damage there does not matter.
        try writeFile(dir.logDirectory + "/log.1", [1, 2, 3])
        let state = try dir.recover(strict: true)
        #expect(state.snapshotZxid == 15 && state.snapshotTree == [])
        #expect(state.zxids == Array(16...30))
        #expect(state.warnings.isEmpty)
    }

    /// Zxids that repeat across files are not applied twice.
    @Test func overlappingLogFilesStopAtTheRepeat() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try writeLog(dir, zxids: 1...5)
        try writeLog(dir, zxids: 3...6, lastZxid: 2)
        let state = try dir.recover()
        #expect(state.zxids == [1, 2, 3, 4, 5])
        #expect(state.warnings.first?.kind == .corruptLog)
        #expect(state.warnings.first?.message.contains("repeats or goes back") == true)
    }

    /// Simulated kill -9 / power loss: after every commit, and at random points while the next group
    /// was being written, the files as they were then recover every committed entry and only whole
    /// entries beyond it.
    @Test func crashAtArbitraryPointsKeepsEveryCommittedEntry() throws {
        let source = try TemporaryDirectory()
        defer { source.remove() }
        let log = try TxnLog(directory: source.dataLogDir, forceSync: true, preallocationSize: 0)
        var generator = SystemRandomNumberGenerator()
        var committed: [(zxid: Int64, size: Int)] = [(0, 0)]
        var zxid: Int64 = 0
        for _ in 0..<40 {
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                zxid += 1
                try log.append(zxid: zxid, entry: makeEntry(zxid: zxid, payloadSize: Int.random(in: 0...300, using: &generator)))
            }
            try log.commit()
            committed.append((zxid, try FileIO.fileSize(source.logDirectory + "/log.1")))
        }
        try log.close()
        let full = try readFile(source.logDirectory + "/log.1")

        for index in committed.indices.dropLast() {
            let (ackedZxid, ackedSize) = committed[index]
            let nextSize = committed[index + 1].size
            for crashSize in [ackedSize, Int.random(in: ackedSize...nextSize, using: &generator), nextSize - 1] where crashSize >= 0 {
                let dir = try TemporaryDirectory()
                defer { dir.remove() }
                try FileManager.default.createDirectory(atPath: dir.logDirectory, withIntermediateDirectories: true)
                // Power loss may also leave zeros where pages never reached the disk.
                try writeFile(dir.logDirectory + "/log.1", Array(full[0..<crashSize]) + [UInt8](repeating: 0, count: Bool.random() ? 512 : 0))
                let state = try dir.recover(strict: true)
                #expect(state.lastZxid >= ackedZxid)
                #expect(state.zxids == Array((1...max(1, state.lastZxid)).prefix(Int(state.lastZxid))))
                #expect(state.entries.allSatisfy { makeEntry(zxid: $0.zxid).prefix(32) == $0.entry.prefix(32) })
                #expect(state.warnings.allSatisfy { $0.kind == .tornTail })
            }
        }
    }
}
