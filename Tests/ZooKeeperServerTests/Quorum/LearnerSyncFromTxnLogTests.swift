import Testing
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// Syncing a learner older than the committed log from the txn log (Apache 3.8 `syncFollower` case 5,
/// `LearnerHandlerTest.testTxnLog*`, `ZKDatabase.getProposalsFromTxnLog`).
@Suite struct LearnerSyncFromTxnLogTests {
    static func txn(_ counter: Int64, epoch: Int64 = 1) -> LoggedTxn {
        ZabSimulationTests.txn(Zxid.make(epoch: epoch, counter: counter), Int(counter))
            .withDigest(TxnDigest(version: 2, treeDigest: 1000 + counter))
    }

    /// Committed log 0x100000021…0x100000025 (in memory), txn log 0x100000001…0x100000025 in one file.
    static let committedLog: [LoggedTxn] = (21...25).map { txn($0) }
    static let lastProcessed = Zxid.make(epoch: 1, counter: 25)
    static func wholeLog(storageSize: Int64 = 0) -> TxnLogSyncSource {
        TxnLogSyncSource(firstZxid: Zxid.make(epoch: 1, counter: 1), storageSize: storageSize, txns: (1...25).map { txn($0) })
    }

    static func plan(peer: Int64, txnLog: TxnLogSyncSource?, factor: Double = 0.33, snapshotSize: Int64 = 10_000) -> LearnerSyncPlan {
        LearnerSyncPlan.plan(peerLastZxid: peer, committedLog: committedLog, lastProcessedZxid: lastProcessed,
                             txnLog: txnLog, snapshotSizeFactor: factor, lastSnapshotSize: snapshotSize)
    }

    @Test func aLearnerWithinTheCommittedLogIsDiffedFromMemoryAsBefore() {
        let peer = Zxid.make(epoch: 1, counter: 22)
        #expect(!LearnerSyncPlan.needsTxnLog(peerLastZxid: peer, committedLog: Self.committedLog,
                                             lastProcessedZxid: Self.lastProcessed, snapshotSizeFactor: 0.33))
        let plan = Self.plan(peer: peer, txnLog: Self.wholeLog())
        let memoryOnly = LearnerSyncPlan.plan(peerLastZxid: peer, committedLog: Self.committedLog, lastProcessedZxid: Self.lastProcessed)
        #expect(plan == memoryOnly)
        #expect(plan.mode == .diff(Self.lastProcessed) && plan.proposals.map(\.zxid) == (23...25).map { Zxid.make(epoch: 1, counter: $0) })
    }

    @Test func anOlderLearnerInTheLogIsDiffedWithLogThenMemoryTxnsInOrderOnce() {
        let peer = Zxid.make(epoch: 1, counter: 7)
        #expect(LearnerSyncPlan.needsTxnLog(peerLastZxid: peer, committedLog: Self.committedLog,
                                            lastProcessedZxid: Self.lastProcessed, snapshotSizeFactor: 0.33))
        let plan = Self.plan(peer: peer, txnLog: Self.wholeLog(storageSize: 3300))
        #expect(plan.mode == .diff(Self.lastProcessed))
        #expect(plan.proposals.map(\.zxid) == (8...25).map { Zxid.make(epoch: 1, counter: $0) })
        #expect(plan.lastQueuedZxid == Self.lastProcessed)
        // Sent as logged: the log entry's txn and its digest, byte for byte.
        #expect(plan.proposals.map { $0.encode() } == (8...25).map { Self.txn($0).encode() })
        #expect(plan.proposals.allSatisfy { $0.digest != nil })
    }

    @Test func aLogThatStopsShortOfTheCommittedLogStillQueuesEachTxnOnce() {
        // The reader stops at the first txn past the committed log's first (0x100000021); memory goes on.
        let log = TxnLogSyncSource(firstZxid: Zxid.make(epoch: 1, counter: 1), storageSize: 0, txns: (1...22).map { Self.txn($0) })
        let plan = Self.plan(peer: Zxid.make(epoch: 1, counter: 19), txnLog: log)
        #expect(plan.mode == .diff(Self.lastProcessed))
        #expect(plan.proposals.map(\.zxid) == (20...25).map { Zxid.make(epoch: 1, counter: $0) })
    }

    @Test func overTheSizeLimitIsASnap() {
        // 0.33 × 10 000 = 3300 bytes: 3301 bytes of log files is over.
        #expect(Self.plan(peer: Zxid.make(epoch: 1, counter: 7), txnLog: Self.wholeLog(storageSize: 3301)).mode == .snap)
        #expect(Self.plan(peer: Zxid.make(epoch: 1, counter: 7), txnLog: Self.wholeLog(storageSize: 3300)).mode != .snap)
    }

    @Test func aZxidNotInTheLogIsASnap() {
        // The log starts after the learner's zxid: txns between may be missing.
        let late = TxnLogSyncSource(firstZxid: Zxid.make(epoch: 1, counter: 10), storageSize: 0, txns: (10...25).map { Self.txn($0) })
        #expect(Self.plan(peer: Zxid.make(epoch: 1, counter: 7), txnLog: late).mode == .snap)
        // No log at all, or a log that ends before the committed log starts (a gap).
        #expect(Self.plan(peer: Zxid.make(epoch: 1, counter: 7), txnLog: nil).mode == .snap)
        #expect(Self.plan(peer: Zxid.make(epoch: 1, counter: 7), txnLog: .init(firstZxid: nil, storageSize: 0, txns: [])).mode == .snap)
        let gap = TxnLogSyncSource(firstZxid: Zxid.make(epoch: 1, counter: 1), storageSize: 0, txns: (1...15).map { Self.txn($0) })
        #expect(Self.plan(peer: Zxid.make(epoch: 1, counter: 7), txnLog: gap).mode == .snap)
    }

    @Test func aNegativeFactorDisablesTheTxnLog() {
        let peer = Zxid.make(epoch: 1, counter: 7)
        #expect(!LearnerSyncPlan.needsTxnLog(peerLastZxid: peer, committedLog: Self.committedLog,
                                             lastProcessedZxid: Self.lastProcessed, snapshotSizeFactor: -1))
        #expect(Self.plan(peer: peer, txnLog: Self.wholeLog(), factor: -1).mode == .snap)
    }

    @Test func aZeroLimitIsUnlimitedAsApaches() {
        // No snapshot yet (size 0) or a factor of 0: getProposalsFromTxnLog treats a limit of 0 as none.
        #expect(Self.plan(peer: Zxid.make(epoch: 1, counter: 7), txnLog: Self.wholeLog(storageSize: 1 << 40), snapshotSize: 0).mode != .snap)
        #expect(Self.plan(peer: Zxid.make(epoch: 1, counter: 7), txnLog: Self.wholeLog(storageSize: 1 << 40), factor: 0).mode != .snap)
    }

    @Test func anUncommittedLearnerTxnInTheLogsRangeIsTruncatedThenDiffed() {
        // The learner logged 0x100000007 that this leader never had (its log skips 7): TRUNC to 6, then 8….
        let txns = (1...25).filter { $0 != 7 }.map { Self.txn(Int64($0)) }
        let plan = Self.plan(peer: Zxid.make(epoch: 1, counter: 7), txnLog: .init(firstZxid: Zxid.make(epoch: 1, counter: 1), storageSize: 0, txns: txns))
        #expect(plan.mode == .trunc(Zxid.make(epoch: 1, counter: 6)))
        #expect(plan.proposals.map(\.zxid) == (8...25).map { Zxid.make(epoch: 1, counter: $0) })
    }

    @Test func aCrossEpochTruncFromTheLogIsASnap() {
        // The learner holds 0x100000009 from an epoch the leader's history left at 0x100000008.
        let committed = (1...3).map { Self.txn($0, epoch: 2) }
        let txns = (1...8).map { Self.txn($0) } + committed
        let plan = LearnerSyncPlan.plan(peerLastZxid: Zxid.make(epoch: 1, counter: 9), committedLog: committed,
                                        lastProcessedZxid: Zxid.make(epoch: 2, counter: 3),
                                        txnLog: .init(firstZxid: Zxid.make(epoch: 1, counter: 1), storageSize: 0, txns: txns),
                                        snapshotSizeFactor: 0.33, lastSnapshotSize: 0)
        #expect(plan.mode == .snap)
    }

    @Test func aNewEpochLearnerIsDiffedFromTheLog() {
        // A learner synced into epoch 2 with no txn of it; the committed log has moved on past what memory holds.
        let committed = (5...6).map { Self.txn($0, epoch: 2) }
        let txns = (7...9).map { Self.txn($0) } + (1...6).map { Self.txn($0, epoch: 2) }
        let plan = LearnerSyncPlan.plan(peerLastZxid: Zxid.make(epoch: 2, counter: 0), committedLog: committed,
                                        lastProcessedZxid: Zxid.make(epoch: 2, counter: 6),
                                        txnLog: .init(firstZxid: Zxid.make(epoch: 1, counter: 7), storageSize: 0, txns: txns),
                                        snapshotSizeFactor: 0.33, lastSnapshotSize: 0)
        #expect(plan.mode == .diff(Zxid.make(epoch: 2, counter: 6)))
        #expect(plan.proposals.map(\.zxid) == (1...6).map { Zxid.make(epoch: 2, counter: $0) })
    }

    @Test func filesAreSelectedAndSizedAsFileTxnIterator() {
        let files = [TxnLogSyncSource.File(zxid: 0x1_0000_0001, size: 100), .init(zxid: 0x1_0000_0010, size: 200),
                     .init(zxid: 0x1_0000_0020, size: 400), .init(zxid: 0x2_0000_0001, size: 800)]
        // Zxid 0x100000015 lies in the file starting at 0x100000010: that one and all newer; the first opened is
        // not counted.
        let selection = TxnLogSyncSource.selectFiles(files, peerLastZxid: 0x1_0000_0015)
        #expect(selection.files.map(\.zxid) == [0x1_0000_0010, 0x1_0000_0020, 0x2_0000_0001] && selection.storageSize == 1200)
        // A zxid before every file: all of them, the oldest not counted.
        #expect(TxnLogSyncSource.selectFiles(files, peerLastZxid: 0).storageSize == 1400)
    }

    @Test func zooCfgSnapshotSizeFactor() throws {
        #expect(try ZooCfgParser.parse("dataDir=/tmp/x\n").configuration.snapshotSizeFactor == 0.33)
        #expect(try ZooCfgParser.parse("snapshotSizeFactor=-1\n").configuration.snapshotSizeFactor == -1)
        #expect(try ZooCfgParser.parse("zookeeper.snapshotSizeFactor=0.5\n").configuration.snapshotSizeFactor == 0.5)
        // Above 1 is Apache's "invalid, going to use the default".
        #expect(try ZooCfgParser.parse("snapshotSizeFactor=2\n").configuration.snapshotSizeFactor == 0.33)
        #expect(throws: ZooCfgParser.ParseError.self) { try ZooCfgParser.parse("snapshotSizeFactor=big\n") }
    }

    @Test func theSizeLimitIsJavasTruncatingCast() {
        #expect(TxnLogSyncSource.sizeLimit(lastSnapshotSize: 10_001, snapshotSizeFactor: 0.33) == 3300)
        #expect(TxnLogSyncSource.sizeLimit(lastSnapshotSize: 0, snapshotSizeFactor: 0.33) == 0)
        #expect(TxnLogSyncSource.sizeLimit(lastSnapshotSize: 100, snapshotSizeFactor: .nan) == 0)
        #expect(TxnLogSyncSource.sizeLimit(lastSnapshotSize: .max, snapshotSizeFactor: 1) == .max)
    }
}

/// Reading those txns back from real log files (`TxnLog` writes them as Apache's `FileTxnLog`).
@Suite struct TxnLogSyncReaderTests {
    /// Txns 1…40 of epoch 1 in files starting at 1, 11 and 31, without preallocation.
    static func writeLog(_ dir: TemporaryDirectory) throws {
        let log = try TxnLog(directory: dir.dataLogDir, forceSync: false, preallocationSize: 0)
        for counter in Int64(1)...40 {
            if counter == 11 || counter == 31 { try log.rollLog() }
            let txn = LearnerSyncFromTxnLogTests.txn(counter)
            try log.append(zxid: txn.zxid, entry: txn.encode())
            try log.commit()
        }
        try log.close()
    }

    @Test func readsFromTheFileHoldingTheZxidThroughTheFirstTxnPastTheCommittedLog() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.writeLog(dir)
        let source = try #require(try TxnLogSyncReader.read(logDirectory: dir.logDirectory, peerLastZxid: Zxid.make(epoch: 1, counter: 15),
                                                            sizeLimit: 0, through: Zxid.make(epoch: 1, counter: 35)))
        #expect(source.firstZxid == Zxid.make(epoch: 1, counter: 11))
        #expect(source.txns.map(\.zxid) == (11...36).map { Zxid.make(epoch: 1, counter: $0) })
        // Byte for byte the logged entries, digests included.
        #expect(source.txns.map { $0.encode() } == (11...36).map { LearnerSyncFromTxnLogTests.txn($0).encode() })
        // Only the file opened first is left out of the size, as Apache's getStorageSize.
        let newest = try FileIO.fileSize(dir.logDirectory + "/" + PersistenceLayout.logName(Zxid.make(epoch: 1, counter: 31)))
        #expect(source.storageSize == Int64(newest))
    }

    @Test func overTheLimitOrDisabledReadsNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.writeLog(dir)
        let peer = Zxid.make(epoch: 1, counter: 5)
        #expect(try TxnLogSyncReader.read(logDirectory: dir.logDirectory, peerLastZxid: peer, sizeLimit: 1, through: .max) == nil)
        #expect(try TxnLogSyncReader.read(logDirectory: dir.logDirectory, peerLastZxid: peer, sizeLimit: -1, through: .max) == nil)
        let all = try #require(try TxnLogSyncReader.read(logDirectory: dir.logDirectory, peerLastZxid: peer, sizeLimit: 0, through: .max))
        #expect(all.txns.count == 40)
    }

    @Test func aLearnerBeforeTheLogGetsASnap() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.writeLog(dir)
        // Zxid 0x0: the oldest file starts after it (Apache: "Unable to find proposals from txnlog").
        let source = try TxnLogSyncReader.read(logDirectory: dir.logDirectory, peerLastZxid: 0, sizeLimit: 0, through: .max)
        #expect(source == nil)
    }

    @Test func entriesBeforeTheHistoryBaseAreNeverUsed() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.writeLog(dir)
        // History loaded (or SNAPped) at 0x100000014: a learner before it gets nothing from the log.
        let base = Zxid.make(epoch: 1, counter: 20)
        #expect(try TxnLogSyncReader.read(logDirectory: dir.logDirectory, peerLastZxid: Zxid.make(epoch: 1, counter: 15),
                                          sizeLimit: 0, through: .max, historyBase: base) == nil)
        let source = try #require(try TxnLogSyncReader.read(logDirectory: dir.logDirectory, peerLastZxid: base,
                                                            sizeLimit: 0, through: .max, historyBase: base))
        #expect(source.firstZxid == base && source.txns.map(\.zxid) == (20...40).map { Zxid.make(epoch: 1, counter: $0) })
    }

    @Test func readingStopsAtAJumpInTheLog() throws {
        // 1…10, then (after a SNAP at 0x100000014) 21…25: nothing after the jump is read, so the plan sees a gap.
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let log = try TxnLog(directory: dir.dataLogDir, forceSync: false, preallocationSize: 0)
        for counter in Array(Int64(1)...10) + Array(Int64(21)...25) {
            if counter == 21 { try log.rollLog() }
            let txn = LearnerSyncFromTxnLogTests.txn(counter)
            try log.append(zxid: txn.zxid, entry: txn.encode())
            try log.commit()
        }
        try log.close()
        let source = try #require(try TxnLogSyncReader.read(logDirectory: dir.logDirectory, peerLastZxid: Zxid.make(epoch: 1, counter: 5),
                                                            sizeLimit: 0, through: Zxid.make(epoch: 1, counter: 21)))
        #expect(source.txns.map(\.zxid) == (1...10).map { Zxid.make(epoch: 1, counter: $0) })
        let plan = LearnerSyncPlan.plan(peerLastZxid: Zxid.make(epoch: 1, counter: 5), committedLog: (21...25).map { LearnerSyncFromTxnLogTests.txn($0) },
                                        lastProcessedZxid: Zxid.make(epoch: 1, counter: 25), txnLog: source, snapshotSizeFactor: 0.33)
        #expect(plan.mode == .snap)
    }
}

/// The leader state machine asks for the txn log and syncs only once it has been read.
@Suite struct LeaderTxnLogSyncTests {
    typealias Leader = LeaderStateMachine<ManualInstant>

    static func leader(factor: Double) -> Leader {
        Leader(settings: .init(myID: 3, configuration: LeaderStateMachineTests.configuration, tickTime: .milliseconds(100),
                               initLimit: 10, syncLimit: 5, committedLogCount: 5, snapshotSizeFactor: factor),
               acceptedEpoch: 1, currentEpoch: 1, lastProcessedZxid: LearnerSyncFromTxnLogTests.lastProcessed,
               committedLog: LearnerSyncFromTxnLogTests.committedLog, now: .at(0))
    }

    /// Learner 1 (handle 1) at 0x100000007 through ACKEPOCH: the epoch is established with it.
    static func join(_ leader: inout Leader) -> [Leader.Action] {
        leader.connected(1, now: .at(0))
        _ = leader.receive(LeaderStateMachineTests.followerInfo(sid: 1, acceptedEpoch: 1), from: 1, now: .at(1))
        return leader.receive(LeaderStateMachineTests.ackEpoch(1, zxid: Zxid.make(epoch: 1, counter: 7)), from: 1, now: .at(2))
    }

    @Test func anOlderLearnerWaitsForTheLogThenGetsLogAndMemoryTxns() {
        var leader = Self.leader(factor: 0.33)
        let actions = Self.join(&leader)
        #expect(actions.contains(.readTxnLog(1, peerLastZxid: Zxid.make(epoch: 1, counter: 7), through: Zxid.make(epoch: 1, counter: 21))))
        #expect(LeaderStateMachineTests.sent(actions).isEmpty)
        let synced = leader.txnLogRead(1, peerLastZxid: Zxid.make(epoch: 1, counter: 7), source: LearnerSyncFromTxnLogTests.wholeLog(),
                                       lastSnapshotSize: 10_000)
        let packets = LeaderStateMachineTests.sent(synced).map(\.1)
        #expect(packets.first == QuorumPacket(.diff, zxid: LearnerSyncFromTxnLogTests.lastProcessed))
        let proposals = packets.filter { $0.kind == .proposal }
        #expect(proposals.map(\.zxid) == (8...25).map { Zxid.make(epoch: 1, counter: $0) })
        #expect(proposals.map(\.data) == (8...25).map { LearnerSyncFromTxnLogTests.txn($0).encode() })
        #expect(packets.last?.kind == .newLeader)
        #expect(leader.syncCounts == .init(diff: 1, trunc: 0, snap: 0, fromTxnLog: 1))
        // A second report for the same learner is ignored: nothing is sent twice.
        #expect(leader.txnLogRead(1, peerLastZxid: Zxid.make(epoch: 1, counter: 7), source: LearnerSyncFromTxnLogTests.wholeLog(),
                                  lastSnapshotSize: 10_000).isEmpty)
    }

    @Test func nothingUsableInTheLogIsASnap() {
        var leader = Self.leader(factor: 0.33)
        _ = Self.join(&leader)
        let synced = leader.txnLogRead(1, peerLastZxid: Zxid.make(epoch: 1, counter: 7), source: nil, lastSnapshotSize: 0)
        #expect(synced.contains(.sendSnapshot(1)))
        #expect(leader.syncCounts.snap == 1 && leader.syncCounts.fromTxnLog == 0)
    }

    @Test func aNegativeFactorSnapsAtOnceAndAGoneLearnerIsForgotten() {
        var disabled = Self.leader(factor: -1)
        let actions = Self.join(&disabled)
        #expect(actions.contains(.sendSnapshot(1)))
        var leader = Self.leader(factor: 0.33)
        _ = Self.join(&leader)
        leader.disconnected(1)
        #expect(leader.txnLogRead(1, peerLastZxid: Zxid.make(epoch: 1, counter: 7), source: LearnerSyncFromTxnLogTests.wholeLog(),
                                  lastSnapshotSize: 0).isEmpty)
    }
}
