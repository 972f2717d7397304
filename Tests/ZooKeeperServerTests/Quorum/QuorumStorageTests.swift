import Foundation
import Testing
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// A member's disk: every logged proposal comes back on restart (committed or not), TRUNC cuts the log
/// and newer snapshots, and the epoch files follow Apache's rules.
@Suite struct QuorumStorageTests {
    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shepherd-quorum-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func txn(_ counter: Int64, epoch: Int64 = 1) -> LoggedTxn {
        ZabSimulationTests.txn(Zxid.make(epoch: epoch, counter: counter), Int(counter))
    }

    @Test func loggedProposalsSurviveARestartAndTruncCutsThem() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let (storage, database, initialEpochs) = try QuorumStorage.open(dataDirectory: dir, preallocationSize: 64 << 10)
            #expect(database.lastProcessedZxid == 0 && initialEpochs.currentEpoch == 0)
            var epochs = initialEpochs
            // The epochs a follower would have persisted before logging these (ACKEPOCH, NEWLEADER).
            try epochs.setAcceptedEpoch(2)
            try epochs.setCurrentEpoch(2)
            var db = database
            for counter in Int64(1)...5 { db.replay(Self.txn(counter)) }
            try storage.append((1...10).map { Self.txn($0) })
            try storage.snapshot(db)
            storage.close()
        }
        // Restart: snapshot at 5 plus logged 6…10 (none of them "committed" as far as the disk knows).
        let (storage, database, _) = try QuorumStorage.open(dataDirectory: dir, preallocationSize: 64 << 10)
        #expect(database.lastProcessedZxid == Zxid.make(epoch: 1, counter: 10))
        #expect(database.tree.node("/n10") != nil)
        // TRUNC to 7: 8…10 are gone from the log and from the tree.
        let cut = try storage.truncate(after: Zxid.make(epoch: 1, counter: 7))
        #expect(cut.lastProcessedZxid == Zxid.make(epoch: 1, counter: 7) && cut.tree.node("/n8") == nil && cut.tree.node("/n7") != nil)
        // The log continues after 7 (a new history) and a restart sees exactly that.
        try storage.append([Self.txn(1, epoch: 2)])
        storage.close()
        let (again, reopened, _) = try QuorumStorage.open(dataDirectory: dir, preallocationSize: 64 << 10)
        #expect(reopened.lastProcessedZxid == Zxid.make(epoch: 2, counter: 1) && reopened.tree.node("/n8") == nil)
        // TRUNC below the snapshot removes the snapshot too (Apache 3.8.0 would reload it).
        let deep = try again.truncate(after: Zxid.make(epoch: 1, counter: 3))
        #expect(deep.lastProcessedZxid == Zxid.make(epoch: 1, counter: 3) && deep.tree.node("/n4") == nil)
        again.close()
    }

    /// Every snapCount-or-so commits a member writes a snapshot (in the background) and starts a new log
    /// file: a restart reads the newest snapshot plus the logs after it, and gets the same tree.
    @Test func membersSnapshotEverySnapCountCommits() async throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (storage, database, initialEpochs) = try QuorumStorage.open(dataDirectory: dir, preallocationSize: 64 << 10, snapCount: 10)
        var epochs = initialEpochs
        try epochs.setAcceptedEpoch(1)
        try epochs.setCurrentEpoch(1)
        var db = database
        for counter in Int64(1)...40 {
            let txn = Self.txn(counter)
            try storage.append([txn])
            db.replay(txn)
            storage.committed(db)
        }
        let versionDirectory = dir + "/version-2"
        func snapshots() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: versionDirectory)) ?? []).filter { $0.hasPrefix("snapshot.") }
        }
        try await eventually(within: .seconds(10)) { !snapshots().isEmpty }
        let logs = try FileManager.default.contentsOfDirectory(atPath: versionDirectory).filter { $0.hasPrefix("log.") }
        #expect(logs.count >= 2, "a new log file begins at each snapshot: \(logs)")
        // Let a snapshot still being written finish before the restart reads the directory.
        try await eventually(within: .seconds(10)) { !storage.isSnapshotting }
        storage.close()
        let (_, reopened, _) = try QuorumStorage.open(dataDirectory: dir, preallocationSize: 64 << 10)
        #expect(reopened.lastProcessedZxid == Zxid.make(epoch: 1, counter: 40) && reopened.tree.node("/n40") != nil)
        #expect(reopened.nodeCount == db.nodeCount)
    }

    @Test func epochFilesAreApachesAndGuardTheirOrder() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let version = dir + "/version-2"
        try FileManager.default.createDirectory(atPath: version, withIntermediateDirectories: true)
        var epochs = try EpochFiles(directory: version, lastLoggedZxid: 0)
        try epochs.setAcceptedEpoch(3)
        try epochs.setCurrentEpoch(2)
        #expect(try String(contentsOfFile: version + "/acceptedEpoch", encoding: .utf8) == "3")
        #expect(try String(contentsOfFile: version + "/currentEpoch", encoding: .utf8) == "2")
        #expect(try EpochFiles(directory: version, lastLoggedZxid: Zxid.make(epoch: 2, counter: 9)).acceptedEpoch == 3)
        // A log ahead of currentEpoch with no currentEpoch.tmp to explain it refuses to start.
        #expect(throws: PersistenceError.self) { try EpochFiles(directory: version, lastLoggedZxid: Zxid.make(epoch: 3, counter: 1)) }
        // With the tmp file of an interrupted write, recovery takes it (CurrentEpochWriteFailureTest).
        try "3".write(toFile: version + "/currentEpoch.tmp", atomically: false, encoding: .utf8)
        #expect(try EpochFiles(directory: version, lastLoggedZxid: Zxid.make(epoch: 3, counter: 1)).currentEpoch == 3)
        // acceptedEpoch below currentEpoch is fatal.
        try "1".write(toFile: version + "/acceptedEpoch", atomically: false, encoding: .utf8)
        #expect(throws: PersistenceError.self) { try EpochFiles(directory: version, lastLoggedZxid: 0) }
        try "garbage".write(toFile: version + "/acceptedEpoch", atomically: false, encoding: .utf8)
        #expect(throws: PersistenceError.self) { try EpochFiles(directory: version, lastLoggedZxid: 0) }
    }
}
