import Synchronization
import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// The processors composed on an ensemble member, driven event by event with a recording role: a session's
/// requests behind its write wait for the commit (pings included), and the commit's notifications leave
/// before the write's reply.
@Suite struct MemberChainTests {
    let link = MemberPipelineTests.RecordingLink()
    let state: PipelineState
    let session: Int64 = 0x1A24_43DE_ACC0_0002
    let connection: UInt64 = 7

    init() {
        state = MemberPipelineTests.servingFollower(link: link, session: session, connection: connection)
    }

    func request(xid: Int32, _ opCode: OpCode, _ body: [UInt8] = []) {
        state.handle(.request(connection: connection, header: RequestHeader(xid: xid, type: opCode.rawValue), body: body,
                              receivedAt: .now))
    }

    /// The leader's commit of the `index`th forwarded request, as the role reports it.
    func commitForwarded(_ index: Int) throws {
        let forwarded = link.forwarded.withLock { $0[index] }
        var leader = state.database
        let txn = try #require(leader.process(forwarded, zxid: state.database.lastProcessedZxid + 1, now: 0).txn)
        state.memberCommitted(txn)
    }

    /// `xid` of every frame sent since `mark`.
    func xids(since mark: Int) throws -> [Int32] {
        try state.held[mark...].compactMap { command -> Int32? in
            guard case let .send(_, bytes) = command else { return nil }
            var reader = JuteReader(Array(bytes.dropFirst(4)))
            return try ReplyHeader(from: &reader).xid
        }
    }

    @Test func requestsBehindAWriteWaitForItsCommitPingsIncluded() throws {
        let mark = state.held.count
        request(xid: 1, .create, CreateRequest(path: "/a", data: [], acl: .openACLUnsafe, flags: 0).juteBytes())
        request(xid: ReservedXid.ping, .ping)
        request(xid: 2, .getData, GetDataRequest(path: "/a", watch: false).juteBytes())
        #expect(try xids(since: mark).isEmpty, "the write is at the leader")
        #expect(link.forwarded.withLock { $0.map(\.cxid) } == [1])
        try commitForwarded(0)
        #expect(try xids(since: mark) == [1, ReservedXid.ping, 2])
    }

    @Test func aCommitsNotificationsLeaveBeforeTheWritesReply() throws {
        request(xid: 1, .exists, ExistsRequest(path: "/a", watch: true).juteBytes())
        let mark = state.held.count
        request(xid: 2, .create, CreateRequest(path: "/a", data: [], acl: .openACLUnsafe, flags: 0).juteBytes())
        try commitForwarded(0)
        #expect(try xids(since: mark) == [ReservedXid.notification, 2])
    }

    @Test func aReadOfAnIdleSessionIsAnsweredAtOnce() throws {
        let mark = state.held.count
        request(xid: 1, .getData, GetDataRequest(path: "/", watch: false).juteBytes())
        request(xid: ReservedXid.ping, .ping)
        #expect(try xids(since: mark) == [1, ReservedXid.ping])
        #expect(link.forwarded.withLock { $0.isEmpty })
    }
}
