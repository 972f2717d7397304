import Foundation
import Testing
@testable import ZooKeeperServer

/// The member's per-session order: reads wait behind their session's outstanding writes and syncs, never
/// behind other sessions'; commits complete writes by session and cxid; sync answers complete in order.
struct CommitQueueTests {
    typealias Queue = CommitQueue<String>

    static func entry(_ session: Int64, _ cxid: Int32, _ kind: Queue.Kind) -> Queue.Entry {
        Queue.Entry(session: session, cxid: cxid, kind: kind, request: "\(session)/\(cxid)")
    }

    /// What the actions say, as short words: `read 1/1`, `forward 1/2`, …
    static func describe(_ actions: [Queue.Action]) -> [String] {
        actions.map { action in
            switch action {
            case let .read(entry): return "read \(entry.request)"
            case let .forward(entry): return "forward \(entry.request)"
            case let .complete(entry): return "complete \(entry.request)"
            case let .synced(entry): return "synced \(entry.request)"
            case let .mismatch(session, expected, got): return "mismatch \(session) \(expected) \(got)"
            }
        }
    }

    @Test func readsWaitOnlyBehindTheirOwnSessionsWrites() {
        var queue = Queue()
        #expect(Self.describe(queue.submit(Self.entry(1, 1, .read))) == ["read 1/1"])
        #expect(Self.describe(queue.submit(Self.entry(1, 2, .write))) == ["forward 1/2"])
        #expect(Self.describe(queue.submit(Self.entry(1, 3, .read))) == [], "behind its own write")
        #expect(Self.describe(queue.submit(Self.entry(2, 1, .read))) == ["read 2/1"], "another session is not held up")
        #expect(Self.describe(queue.submit(Self.entry(1, 4, .write))) == ["forward 1/4"], "writes go to the leader at once")
        #expect(Self.describe(queue.submit(Self.entry(1, 5, .read))) == [])
        #expect(queue.count == 4)
        #expect(Self.describe(queue.committed(session: 1, cxid: 2)) == ["complete 1/2", "read 1/3"])
        #expect(Self.describe(queue.committed(session: 1, cxid: 4)) == ["complete 1/4", "read 1/5"])
        #expect(queue.count == 0)
        #expect(Self.describe(queue.submit(Self.entry(1, 6, .read))) == ["read 1/6"], "nothing outstanding any more")
    }

    @Test func commitsOfOtherMembersClientsNeedNoAnswer() {
        var queue = Queue()
        #expect(queue.committed(session: 7, cxid: 1).isEmpty)
        _ = queue.submit(Self.entry(1, 2, .write))
        // A commit of this session's request sent through another member: no answer here, still waiting.
        #expect(Self.describe(queue.committed(session: 1, cxid: 1)) == ["mismatch 1 2 1"])
        #expect(queue.count == 1, "the session keeps waiting for its own write")
        #expect(Self.describe(queue.committed(session: 1, cxid: 2)) == ["complete 1/2"])
    }

    @Test func syncAnswersCompleteInForwardingOrderEvenAfterADrop() {
        var queue = Queue()
        _ = queue.submit(Self.entry(1, 1, .sync))
        _ = queue.submit(Self.entry(2, 1, .sync))
        _ = queue.submit(Self.entry(2, 2, .read))
        queue.drop(1)
        _ = queue.submit(Self.entry(1, 5, .sync))
        #expect(queue.syncCompleted().isEmpty, "the dropped session's sync is answered first, and ignored")
        #expect(Self.describe(queue.syncCompleted()) == ["synced 2/1", "read 2/2"])
        #expect(Self.describe(queue.syncCompleted()) == ["synced 1/5"])
        #expect(queue.syncCompleted().isEmpty)
    }
}

/// Apache's session passwords (`new Random(id ^ 0xB3415C00).nextBytes(16)`): every member of a mixed
/// ensemble must derive the same one. Golden values from Java 17.
struct ApacheSessionPasswordTests {
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test func matchJava() {
        #expect(Self.hex(SessionPasswords.apache.password(for: 72_057_594_037_927_937)) == "054cc74a37327db215e702e20c73f005")
        #expect(Self.hex(SessionPasswords.apache.password(for: -9_151_314_442_816_847_872)) == "f22acd4a97e69d6d20a49bb638eadb38")
        var random = JavaRandom(seed: 42)
        #expect(random.nextInt() == -1_170_105_035)
    }
}
