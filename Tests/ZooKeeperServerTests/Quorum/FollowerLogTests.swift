import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// The follower's log bookkeeping (``FollowerLog``), which ``FollowerDriver`` and the ensemble simulation share.
@Suite struct FollowerLogTests {
    private func txn(_ counter: Int64, epoch: Int64 = 2) -> LoggedTxn {
        EnsembleSimulation.txn(zxid: Zxid.make(epoch: epoch, counter: counter), write: Int(counter))
    }

    @Test func theGroupCommitOwesAcksOnlyForAcknowledgedProposalsAndPaysThemOnce() {
        var log = FollowerLog()
        #expect(!log.needsSync)
        log.logged([txn(1), txn(2)], acknowledge: true)
        log.logged([txn(3)], acknowledge: false)  // logged during a sync: NEWLEADER's ACK covers it
        log.logged([txn(4)], acknowledge: true)
        #expect(log.needsSync)
        let acks = log.synced()
        #expect(acks == [txn(1), txn(2), txn(4)].map(\.zxid))
        #expect(!log.needsSync)
        let again = log.synced()
        #expect(again.isEmpty, "an ACK is sent once")
        #expect(log.tail.map(\.zxid) == [1, 2, 3, 4].map { txn($0).zxid }, "fsynced proposals stay logged until committed")
    }

    @Test func onlyLoggingAndCommittingMayPassUnsyncedWrites() {
        let passing: [LearnerStateMachine.Action] = [.log([txn(1)], acknowledge: true), .commit(txn(1).zxid)]
        let waiting: [LearnerStateMachine.Action] = [
            .send(QuorumPacket(.ack, zxid: 0)), .persistCurrentEpoch(2), .persistAcceptedEpoch(2), .takeSnapshot,
            .startServing(epoch: 2), .answerPing(zxid: 0), .useLoggedHistory(through: 0), .applyUnlogged(txn(1)), .loadSnapshot(zxid: 0),
            .revalidated(sessionId: 1, valid: true), .syncCompleted, .fail("x"),
        ]
        for action in passing { #expect(!FollowerLog.waitsForSync(action)) }
        for action in waiting { #expect(FollowerLog.waitsForSync(action)) }
    }

    @Test func commitsTakeTheOldestLoggedProposalAndNothingElse() {
        var log = FollowerLog(uncommitted: [txn(1), txn(2)])
        let skipping = log.commit(txn(2).zxid)
        #expect(skipping == nil, "a COMMIT that skips a logged proposal")
        #expect(log.tail.count == 2, "a refused COMMIT takes nothing")
        let first = log.commit(txn(1).zxid)
        #expect(first?.zxid == txn(1).zxid)
        let unknown = log.commit(txn(3).zxid)
        #expect(unknown == nil, "a COMMIT for what was never logged")
        let second = log.commit(txn(2).zxid)
        #expect(second?.zxid == txn(2).zxid)
        let empty = log.commit(txn(3).zxid)
        #expect(empty == nil)
    }

    @Test func aSyncReplaysTheTailUpToTheLeadersPointOrCutsTheLogBack() {
        let log = FollowerLog(uncommitted: [txn(5), txn(6), txn(7)])
        let committed = txn(4).zxid
        #expect(log.history(upTo: txn(7).zxid, committedThrough: committed) == .replay([txn(5), txn(6), txn(7)]))
        #expect(log.history(upTo: txn(9).zxid, committedThrough: committed) == .replay([txn(5), txn(6), txn(7)]),
                "a DIFF beyond our tail: its proposals follow as packets")
        #expect(log.history(upTo: txn(6).zxid, committedThrough: committed) == .truncate(after: txn(6).zxid),
                "the leader never committed our last proposal")
        #expect(log.history(upTo: txn(2).zxid, committedThrough: committed) == .truncate(after: txn(2).zxid))
        #expect(log.history(upTo: txn(6, epoch: 1).zxid, committedThrough: committed) == .truncate(after: txn(6, epoch: 1).zxid),
                "a TRUNC into an earlier epoch")
        #expect(log.logged(upTo: txn(6).zxid).map(\.zxid) == [txn(5), txn(6)].map(\.zxid))

        let empty = FollowerLog()
        #expect(empty.history(upTo: committed, committedThrough: committed) == .replay([]))
        #expect(empty.history(upTo: txn(3).zxid, committedThrough: committed) == .truncate(after: txn(3).zxid))
    }

    @Test func theTailStaysUntilTheChosenHistoryIsInPlace() {
        var log = FollowerLog(uncommitted: [txn(5)])
        _ = log.history(upTo: txn(5).zxid, committedThrough: txn(4).zxid)
        #expect(log.tail.count == 1, "choosing drops nothing: the history may still fail to take it")
        log.historyAdopted()
        #expect(log.tail.isEmpty)
    }

    @Test func aSnapOrAnUnloggedCommitLeavesTheHistoryAheadOfTheDiskUntilTheSnapshot() {
        var log = FollowerLog(uncommitted: [txn(5)])
        #expect(!log.aheadOfDisk)
        log.snapshotIncoming()
        #expect(log.aheadOfDisk)
        #expect(log.tail.isEmpty, "a SNAP voids what was logged")
        log.snapshotTaken()
        #expect(!log.aheadOfDisk)

        log.appliedUnlogged()
        #expect(log.aheadOfDisk)
        log.logged([txn(6)], acknowledge: false)
        log.restoredFromDisk()
        #expect(!log.aheadOfDisk)
        #expect(log.tail.isEmpty, "the history on disk is the whole story")
    }
}
