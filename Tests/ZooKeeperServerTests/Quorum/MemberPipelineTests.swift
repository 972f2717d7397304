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
