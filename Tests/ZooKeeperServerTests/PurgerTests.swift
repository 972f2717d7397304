import Testing
@testable import ZooKeeperServer

@Suite struct PurgerTests {
    /// Snapshots every 10 txns with a log roll after each (as the sync processor does).
    func populate(_ dir: TemporaryDirectory) throws {
        let store = SnapshotStore(directory: dir.dataDir)
        let log = try TxnLog(directory: dir.dataLogDir, forceSync: false, preallocationSize: 0)
        try store.write(zxid: 0, tree: [0])
        for zxid in Int64(1)...45 {
            try log.append(zxid: zxid, entry: makeEntry(zxid: zxid))
            try log.commit()
            if zxid % 10 == 0 {
                try log.rollLog()
                try store.write(zxid: zxid, tree: [UInt8(zxid)])
            }
        }
        try log.close()
    }

    @Test func keepsExactlyWhatRecoveryNeeds() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try populate(dir)
        #expect(dir.names(dir.logDirectory) == ["log.1", "log.15", "log.1f", "log.29", "log.b"])
        let before = try dir.recover()

        let result = try Purger.purge(dataDir: dir.dataDir, dataLogDir: dir.dataLogDir, retainCount: 3)
        #expect(result.removedSnapshots.count == 2 && result.removedLogs.count == 1)
        #expect(dir.names(dir.snapDirectory) == ["snapshot.14", "snapshot.1e", "snapshot.28"])
        // snapshot.14 (zxid 20) needs log.b (11...20) and everything after it.
        #expect(dir.names(dir.logDirectory) == ["log.15", "log.1f", "log.29", "log.b"])
        let after = try dir.recover(strict: true)
        #expect(after.snapshotZxid == before.snapshotZxid && after.zxids == before.zxids)

        // Every kept snapshot is still recoverable: lose the two newest and the oldest kept one works.
        try FileIO.remove(dir.snapDirectory + "/snapshot.28")
        try FileIO.remove(dir.snapDirectory + "/snapshot.1e")
        let oldest = try dir.recover(strict: true)
        #expect(oldest.snapshotZxid == 20 && oldest.zxids == Array(21...45))
        #expect(oldest.warnings.isEmpty)
    }

    /// A damaged newest snapshot does not count: one more older snapshot (and its logs) is kept.
    @Test func damagedSnapshotsDoNotCountTowardsTheRetainCount() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try populate(dir)
        try FileIO.truncate(dir.snapDirectory + "/snapshot.28", to: 10)
        try Purger.purge(dataDir: dir.dataDir, dataLogDir: dir.dataLogDir, retainCount: 3)
        #expect(dir.names(dir.snapDirectory) == ["snapshot.14", "snapshot.1e", "snapshot.28", "snapshot.a"])
        #expect(dir.names(dir.logDirectory) == ["log.1", "log.15", "log.1f", "log.29", "log.b"])
        let state = try dir.recover()
        #expect(state.snapshotZxid == 30 && state.zxids == Array(31...45))
    }

    @Test func nothingRemovedWithoutAValidSnapshotAndBadCountRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try writeLog(dir, zxids: 1...5, rollBefore: [3])
        #expect(try Purger.purge(dataDir: dir.dataDir, dataLogDir: dir.dataLogDir, retainCount: 3) == Purger.Result())
        #expect(dir.names(dir.logDirectory) == ["log.1", "log.3"])
        #expect(throws: PersistenceError.self) { try Purger.purge(dataDir: dir.dataDir, dataLogDir: dir.dataLogDir, retainCount: 0) }
    }
}
