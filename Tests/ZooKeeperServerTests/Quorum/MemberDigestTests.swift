import Synchronization
import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// A member fed commits whose digest is wrong: `mntr` counts each one, the log says so once per interval
/// (an error for the first, Apache's rate-limited warning), and the commits are applied all the same.
@Suite struct MemberDigestTests {
    final class IdleLink: QuorumRoleLink {
        func forward(_ request: ClientRequest) -> Bool { true }
        func revalidate(session: Int64, timeout: Int32) -> Bool { true }
        var ensembleStatus: EnsembleStatus { EnsembleStatus() }
    }

    static func mismatchCount(_ state: PipelineState) -> Int64? {
        guard case let .int(count)? = state.monitorValues().first(where: { $0.key == "digest_mismatches_count" })?.value else { return nil }
        return count
    }

    @Test func wrongDigestsAreCountedInMntrAndLoggedRateLimited() {
        let lines = Mutex<[(ServerLog.Level, String)]>([])
        let configuration = ServerConfiguration()
        let state = PipelineState(
            configuration: configuration, database: ZooKeeperDatabase(configuration: configuration),
            sessions: SessionTracker(tickTime: configuration.tickTime, serverID: 1, now: 0),
            passwords: .apache, persistence: nil,
            log: ServerLog { level, text in if level >= .warning { lines.withLock { $0.append((level, text)) } } })
        state.member = MemberContext(link: IdleLink(), activity: SessionActivity())
        state.memberStartServing(state.database, state: .following, epoch: 1)

        // The leader's txns, as its prep made them (right digests), then two with a wrong one.
        var leader = DatabaseHarness()
        leader.create("/ok")
        leader.create("/bad1")
        leader.create("/bad2")
        state.memberCommitted(leader.log[0])
        #expect(Self.mismatchCount(state) == 0)
        #expect(state.database.tree.digestStatistics.checked == 1)
        for txn in leader.log[1...] {
            var wrong = txn
            wrong.digest?.treeDigest &+= 42
            state.memberCommitted(wrong)
        }
        #expect(Self.mismatchCount(state) == 2)
        #expect(state.database.tree.node("/bad2") != nil, "applied all the same")
        let logged = lines.withLock { $0 }
        #expect(logged.count == 2, "the first mismatch's error and one warning, the second held back: \(logged.map(\.1))")
        #expect(logged.first?.0 == .error && logged.first?.1.contains("First digest mismatch on txn 0x2") == true)
        #expect(logged.last?.0 == .warning && logged.last?.1.contains("Digests are not matching. Value is Zxid.") == true)
    }
}
