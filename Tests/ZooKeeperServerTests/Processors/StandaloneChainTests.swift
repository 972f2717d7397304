import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// The processors composed by the standalone pipeline, driven event by event (no sockets, no log): a write's
/// notifications leave before its reply, only to connections that may read the node, and nothing leaves
/// before the batch is released.
@Suite struct StandaloneChainTests {
    let state: PipelineState

    init() {
        let configuration = ServerConfiguration()
        state = PipelineState(
            configuration: configuration, database: ZooKeeperDatabase(configuration: configuration),
            sessions: SessionTracker(tickTime: configuration.tickTime, serverID: 0, now: 0),
            passwords: .apache, persistence: nil, log: .silent)
        for connection: UInt64 in [1, 2] {
            let connect = ConnectRequest(protocolVersion: 0, lastZxidSeen: 0, timeOut: 4000, sessionId: 0,
                                         passwd: [UInt8](repeating: 0, count: 16), readOnly: false)
            state.handle(.connect(connection: connection, remote: "127.0.0.1:4000\(connection)", request: connect, sentReadOnlyFlag: false))
        }
    }

    func request(_ connection: UInt64, xid: Int32, _ opCode: OpCode, _ record: some JuteEncodable) {
        state.handle(.request(connection: connection, header: RequestHeader(xid: xid, type: opCode.rawValue),
                              body: record.juteBytes(), receivedAt: .now))
    }

    /// `connection:xid` of every frame sent since `mark`.
    func frames(since mark: Int) throws -> [String] {
        try state.held[mark...].compactMap { command -> String? in
            guard case let .send(connection, bytes) = command else { return nil }
            var reader = JuteReader(Array(bytes.dropFirst(4)))
            return "\(connection):\(try ReplyHeader(from: &reader).xid)"
        }
    }

    @Test func aWritesNotificationsLeaveBeforeItsReply() throws {
        request(1, xid: 1, .create, CreateRequest(path: "/a", data: [], acl: .openACLUnsafe, flags: 0))
        request(1, xid: 2, .getData, GetDataRequest(path: "/a", watch: true))
        let mark = state.held.count
        request(2, xid: 1, .setData, SetDataRequest(path: "/a", data: [1], version: -1))
        #expect(try frames(since: mark) == ["1:\(ReservedXid.notification)", "2:1"])
    }

    @Test func aConnectionThatMayNotReadTheNodeGetsNoNotification() throws {
        request(1, xid: 1, .create, CreateRequest(path: "/a", data: [], acl: .openACLUnsafe, flags: 0))
        request(1, xid: 2, .getData, GetDataRequest(path: "/a", watch: true))
        let writeOnly = [ACL(perms: [.write, .admin], id: .anyone)]
        request(2, xid: 1, .setACL, SetACLRequest(path: "/a", acl: writeOnly, version: -1))
        let mark = state.held.count
        request(2, xid: 2, .setData, SetDataRequest(path: "/a", data: [1], version: -1))
        #expect(try frames(since: mark) == ["2:2"], "the watch is consumed, its event not sent")
    }

    @Test func repliesAreHeldUntilTheBatchIsReleased() throws {
        request(1, xid: 1, .create, CreateRequest(path: "/a", data: [], acl: .openACLUnsafe, flags: 0))
        #expect(try frames(since: 0).contains("1:1"))
        #expect(state.releaseBatch())
        #expect(state.held.isEmpty)
    }

    @Test func aRequestBeforeTheHandshakeIsAborted() {
        let mark = state.held.count
        request(9, xid: 1, .getData, GetDataRequest(path: "/", watch: false))
        #expect(state.held[mark...].contains { if case .abort(9) = $0 { true } else { false } })
    }
}
