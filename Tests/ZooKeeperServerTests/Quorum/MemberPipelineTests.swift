import Synchronization
import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// The member pipeline's answers around a role's end, driven event by event (no sockets, no quorum).
@Suite struct MemberPipelineTests {
    /// A role that accepts everything and remembers what it was sent.
    final class RecordingLink: QuorumRoleLink {
        let forwarded = Mutex<[ClientRequest]>([])
        func forward(_ request: ClientRequest) -> Bool {
            forwarded.withLock { $0.append(request) }
            return true
        }
        func revalidate(session: Int64, timeout: Int32) -> Bool { true }
        var ensembleStatus: EnsembleStatus { EnsembleStatus() }
    }

    let link = RecordingLink()
    let state: PipelineState
    let session: Int64 = 0x1A24_43DE_ACC0_0001
    let connection: UInt64 = 7

    init() throws {
        state = Self.servingFollower(link: link, session: session, connection: connection)
    }

    /// A follower's pipeline serving `session` on `connection`: the session moved here from another member
    /// and the leader said it is alive.
    static func servingFollower(link: RecordingLink, session: Int64, connection: UInt64) -> PipelineState {
        let configuration = ServerConfiguration()
        let state = PipelineState(
            configuration: configuration, database: ZooKeeperDatabase(configuration: configuration),
            sessions: SessionTracker(tickTime: configuration.tickTime, serverID: 1, now: 0),
            passwords: .apache, persistence: nil, log: .silent)
        state.member = MemberContext(link: link, activity: SessionActivity())
        state.memberStartServing(state.database, state: .following, epoch: 1)
        let connect = ConnectRequest(protocolVersion: 0, lastZxidSeen: 0, timeOut: 4000, sessionId: session,
                                     passwd: state.passwords.password(for: session), readOnly: false)
        state.handle(.connect(connection: connection, remote: "127.0.0.1:50000", request: connect, sentReadOnlyFlag: false))
        state.memberRevalidated(session: session, valid: true)
        return state
    }

    func delete(xid: Int32) -> NetworkEvent {
        var writer = JuteWriter(capacity: 64)
        writer.write(RequestHeader(xid: xid, type: OpCode.delete.rawValue))
        DeleteRequest(path: "/lock/_c_x-lock-0000000007", version: -1).encode(to: &writer)
        let body = Array(writer.bytes[8...])  // after the 8-byte header
        return .request(connection: connection, header: RequestHeader(xid: xid, type: OpCode.delete.rawValue), body: body, receivedAt: .now)
    }

    /// Error codes of the replies among `commands`.
    func replyErrors(_ commands: [NetworkCommand]) throws -> [Int32] {
        try commands.compactMap { command -> Int32? in
            guard case let .send(_, bytes) = command else { return nil }
            var reader = JuteReader(Array(bytes.dropFirst(4)))
            return try ReplyHeader(from: &reader).err
        }
    }

    @Test func aWriteIsForwardedWhileTheRoleServes() throws {
        state.handle(delete(xid: 1))
        #expect(link.forwarded.withLock { $0.map(\.cxid) } == [1])
    }

    @Test func theTreeGoesBackToTheRoleWithoutTheConnectionsWatches() throws {
        var get = JuteWriter(capacity: 32)
        get.write(RequestHeader(xid: 1, type: OpCode.getData.rawValue))
        GetDataRequest(path: "/zookeeper", watch: true).encode(to: &get)
        state.handle(.request(connection: connection, header: RequestHeader(xid: 1, type: OpCode.getData.rawValue),
                              body: Array(get.bytes[8...]), receivedAt: .now))
        #expect(state.database.watchCount == 1)
        let returned = try #require(state.memberStopServing())
        #expect(returned.watchCount == 0, "a watch of a closed connection would travel to the next role")
        #expect(state.memberStopServing() == nil, "nothing to give back once stopped")
    }

    @Test func aRequestArrivingAfterTheRoleEndedIsNotToldItsSessionExpired() throws {
        let before = state.held.count
        state.memberStopServing()
        // Already on its way when the member dropped its clients: the close has not reached the socket yet.
        state.handle(delete(xid: 2))
        let after = Array(state.held[before...])
        #expect(try replyErrors(after).allSatisfy { $0 != ZooKeeperErrorCode.sessionExpired.rawValue })
        #expect(after.contains { if case .abort(connection) = $0 { true } else { false } })
        #expect(link.forwarded.withLock { $0.isEmpty })
    }

    @Test func aRequestOfASessionTheLeaderClosedIsDroppedNotAnswered() throws {
        let before = state.held.count
        state.sessions.remove(session)  // as a committed closeSession does, its connection's close in flight
        state.handle(delete(xid: 3))
        let after = Array(state.held[before...])
        #expect(try replyErrors(after).isEmpty)
        #expect(after.contains { if case .abort(connection) = $0 { true } else { false } })
    }
}

/// A write the leader refused with SESSIONMOVED (the client's takeover of its own session raced its
/// reconnection, and the leader counts another member as the owner): the connection closes unanswered, as
/// Apache's FinalRequestProcessor does (ZOOKEEPER-710), so the client's reconnection revalidates it here.
@Suite struct MemberSessionMovedTests {
    let link = MemberPipelineTests.RecordingLink()
    let state: PipelineState
    let session: Int64 = 0x1A24_43DE_ACC0_0002
    let connection: UInt64 = 9

    init() throws {
        state = MemberPipelineTests.servingFollower(link: link, session: session, connection: connection)
    }

    /// Forwards a delete with `xid`, then applies the leader's commit of it with `body`; the commands that
    /// followed the commit.
    func forwardThenCommit(xid: Int32, _ body: TxnBody, type: OpCode) -> [NetworkCommand] {
        var writer = JuteWriter(capacity: 64)
        DeleteRequest(path: "/queue/item-0000000001", version: -1).encode(to: &writer)
        state.handle(.request(connection: connection, header: RequestHeader(xid: xid, type: OpCode.delete.rawValue),
                              body: writer.bytes, receivedAt: .now))
        let before = state.held.count
        state.memberCommitted(LoggedTxn(
            header: TxnHeader(clientId: session, cxid: xid, zxid: 0x1_0000_0005, time: 0, type: type.rawValue), body: body))
        return Array(state.held[before...])
    }

    func closes(_ commands: [NetworkCommand]) -> Bool {
        commands.contains { if case .close(connection) = $0 { true } else { false } }
    }

    func replies(_ commands: [NetworkCommand]) -> Int {
        commands.filter { if case .send(connection, _) = $0 { true } else { false } }.count
    }

    @Test func aWriteRefusedAsSessionMovedClosesTheConnectionUnanswered() throws {
        let after = forwardThenCommit(xid: 4, .error(ErrorTxn(err: ZooKeeperErrorCode.sessionMoved.rawValue)), type: .error)
        #expect(link.forwarded.withLock { $0.map(\.cxid) } == [4])
        #expect(closes(after))
        #expect(replies(after) == 0)
    }

    @Test func aMultiWhoseFirstOpWasRefusedAsSessionMovedClosesItToo() throws {
        // Apache's leader refuses a multi op by op: SESSIONMOVED, then RUNTIMEINCONSISTENCY for the rest.
        let body = TxnBody.multi([.error(ErrorTxn(err: ZooKeeperErrorCode.sessionMoved.rawValue)),
                                  .error(ErrorTxn(err: ZooKeeperErrorCode.runtimeInconsistency.rawValue))])
        let after = forwardThenCommit(xid: 5, body, type: .multi)
        #expect(closes(after))
        #expect(replies(after) == 0)
    }

    @Test func anOrdinaryErrorIsAnsweredAndTheConnectionKept() throws {
        let after = forwardThenCommit(xid: 6, .error(ErrorTxn(err: ZooKeeperErrorCode.noNode.rawValue)), type: .error)
        #expect(!closes(after))
        #expect(replies(after) == 1)
    }
}
