import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

@Suite struct TxnLogTests {
    /// The file is byte-for-byte Apache's FileTxnLog framing.
    @Test func onDiskFormatIsApaches() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let entry = makeEntry(zxid: 0x1f)
        let log = try TxnLog(directory: dir.dataLogDir, forceSync: true, preallocationSize: 0)
        try log.append(zxid: 0x1f, entry: entry)
        try log.commit()
        #expect(log.lastCommittedZxid == 0x1f)
        try log.close()

        #expect(dir.names(dir.logDirectory) == ["log.1f"])
        let bytes = try readFile(dir.logDirectory + "/log.1f")
        var expected: [UInt8] = Array("ZKLG".utf8) + [0, 0, 0, 2] + [UInt8](repeating: 0, count: 8)
        var writer = JuteWriter()
        writer.write(Int64(Adler32.checksum(entry)))
        writer.writeBuffer(entry)
        expected += writer.bytes + [0x42]
        #expect(bytes == expected)
    }

    @Test func groupCommitWritesManyEntriesAndRecoveryReturnsThem() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let log = try TxnLog(directory: dir.dataLogDir, forceSync: true, preallocationSize: 1 << 16)
        for zxid in Int64(1)...50 { try log.append(zxid: zxid, entry: makeEntry(zxid: zxid)) }
        #expect(log.pendingEntryCount == 50)
        try log.commit()
        #expect(log.pendingEntryCount == 0)
        // Preallocated: the file is larger than its records; the zeros read as the end of the log.
        #expect(try FileIO.fileSize(dir.logDirectory + "/log.1") == 1 << 16)
        let state = try dir.recover()
        #expect(state.zxids == Array(1...50))
        #expect(state.entries.allSatisfy { $0.entry == makeEntry(zxid: $0.zxid) })
        #expect(state.lastZxid == 50)
        #expect(state.warnings.isEmpty)
        #expect(state.snapshotZxid == nil)
    }

    @Test func rollLogStartsAFileNamedAfterTheNextZxid() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let log = try TxnLog(directory: dir.dataLogDir, forceSync: true, preallocationSize: 4096)
        try log.append(zxid: 1, entry: makeEntry(zxid: 1))
        try log.append(zxid: 2, entry: makeEntry(zxid: 2))
        try log.rollLog()   // buffered entries stay in log.1 and are synced by the next commit
        try log.append(zxid: 3, entry: makeEntry(zxid: 3))
        try log.commit()
        try log.rollLog()
        try log.rollLog()   // rolling with no file open is a no-op
        for zxid in Int64(0x100)...0x102 { try log.append(zxid: zxid, entry: makeEntry(zxid: zxid)) }
        try log.commit()
        #expect(log.currentFilePath == dir.logDirectory + "/log.100")
        #expect(dir.names(dir.logDirectory) == ["log.1", "log.100", "log.3"])
        let state = try dir.recover()
        #expect(state.zxids == [1, 2, 3, 0x100, 0x101, 0x102])
        #expect(state.warnings.map(\.kind) == [.missingTransactions])
    }

    @Test func refusesBadAppends() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let log = try TxnLog(directory: dir.dataLogDir, forceSync: false, lastZxid: 10)
        #expect(throws: PersistenceError.self) { try log.append(zxid: 10, entry: makeEntry(zxid: 10)) }
        #expect(throws: PersistenceError.self) { try log.append(zxid: 11, entry: makeEntry(zxid: 12)) }
        #expect(throws: PersistenceError.self) { try log.append(zxid: 11, entry: [1, 2, 3]) }
        try log.append(zxid: 11, entry: makeEntry(zxid: 11))
        #expect(throws: PersistenceError.self) { try log.append(zxid: 11, entry: makeEntry(zxid: 11)) }
        try log.close()
        #expect(throws: PersistenceError.self) { try log.append(zxid: 12, entry: makeEntry(zxid: 12)) }
    }

    /// Never appends into an existing file: a second writer for the same zxid gets a clear error.
    @Test func refusesToOverwriteAnExistingLogFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try writeLog(dir, zxids: [1, 2])
        let log = try TxnLog(directory: dir.dataLogDir, forceSync: false)
        let error = #expect(throws: PersistenceError.self) { try log.append(zxid: 1, entry: makeEntry(zxid: 1)) }
        #expect(error?.kind == .io(errno: 17))  // EEXIST
        #expect(try dir.recover().zxids == [1, 2])
    }
}
