import Synchronization
import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// A member pipeline serving read-only (no quorum, `readonlymode.enabled`), driven event by event: who is
/// admitted, what is answered, and what its end does to the clients.
@Suite struct ReadOnlyPipelineTests {
    typealias RecordingLink = MemberPipelineTests.RecordingLink

    let link = RecordingLink()
    let state: PipelineState
    let globalSession: Int64 = 0x0300_0000_0000_0001

    init() { self.init(localSessions: true) }

    init(localSessions: Bool) {
        var configuration = ServerConfiguration()
        configuration.serverID = 1
        configuration.readOnlyModeEnabled = true  // also whitelists `isro`, as Apache does
        configuration.localSessionsEnabled = localSessions
        var database = ZooKeeperDatabase(configuration: configuration)
        _ = database.createSession(sessionId: globalSession, timeout: 4000, zxid: 1, now: 0)  // committed elsewhere
        state = PipelineState(
            configuration: configuration, database: database,
            sessions: SessionTracker(tickTime: configuration.tickTime, serverID: 1, now: 0),
            passwords: .apache, persistence: nil, log: .silent)
        state.member = MemberContext(link: link, activity: SessionActivity())
        state.memberStartReadOnly(database)
    }

    func connect(_ connection: UInt64, session: Int64 = 0, readOnly: Bool) {
        let password = session == 0 ? [UInt8](repeating: 0, count: 16) : state.passwords.password(for: session)
        let request = ConnectRequest(protocolVersion: 0, lastZxidSeen: 0, timeOut: 4000, sessionId: session,
                                     passwd: password, readOnly: readOnly)
        state.handle(.connect(connection: connection, remote: "127.0.0.1:5000\(connection)", request: request, sentReadOnlyFlag: true))
    }

    func request(_ connection: UInt64, xid: Int32, _ opCode: OpCode, encode: (inout JuteWriter) -> Void = { _ in }) {
        var writer = JuteWriter(capacity: 64)
        encode(&writer)
        state.handle(.request(connection: connection, header: RequestHeader(xid: xid, type: opCode.rawValue), body: writer.bytes, receivedAt: .now))
    }

    /// The commands issued since `mark`.
    func commands(since mark: Int) -> [NetworkCommand] { Array(state.held[mark...]) }

    func sent(_ commands: [NetworkCommand]) -> [[UInt8]] {
        commands.compactMap { if case let .send(_, bytes) = $0 { Array(bytes.dropFirst(4)) } else { nil } }
    }

    func closes(_ commands: [NetworkCommand], _ connection: UInt64) -> Bool {
        commands.contains {
            switch $0 {
            case .close(connection), .abort(connection): true
            default: false
            }
        }
    }

    /// Admits a read-only client on `connection`; returns its ConnectResponse.
    func admit(_ connection: UInt64) throws -> ConnectResponse {
        let mark = state.held.count
        connect(connection, readOnly: true)
        let frames = sent(commands(since: mark))
        try #require(frames.count == 1)
        var reader = JuteReader(frames[0])
        return try ConnectResponse(from: &reader)
    }

    func replies(since mark: Int) throws -> [ReplyHeader] {
        try sent(commands(since: mark)).map { frame in
            var reader = JuteReader(frame)
            return try ReplyHeader(from: &reader)
        }
    }

    @Test func withoutLocalSessionsANewSessionGetsApachesNotReadOnlyReplyInsteadOfAHandshake() throws {
        let strict = ReadOnlyPipelineTests(localSessions: false)
        let mark = strict.state.held.count
        strict.connect(1, readOnly: true)
        let frames = strict.sent(strict.commands(since: mark))
        try #require(frames.count == 1)
        var reader = JuteReader(frames[0])
        let header = try ReplyHeader(from: &reader)
        #expect(header.xid == 0 && header.err == ZooKeeperErrorCode.notReadOnly.rawValue && frames[0].count == 16)
        #expect(strict.state.sessions.sessions.isEmpty)
    }

    @Test func aClientThatDidNotAskForReadOnlyIsClosedUnanswered() {
        let mark = state.held.count
        connect(1, readOnly: false)
        #expect(sent(commands(since: mark)).isEmpty)
        #expect(closes(commands(since: mark), 1))
        #expect(state.fourLetterWordResponse("isro") == "ro")
    }

    @Test func aReadOnlyClientGetsALocalSessionReadsAndNotReadOnly() throws {
        let response = try admit(1)
        #expect(response.readOnly)
        #expect(response.timeOut == 4000)
        #expect(response.sessionId >> 56 == 1, "the member's sid in the top byte")
        #expect(state.database.sessions[response.sessionId] == nil, "local: nothing committed")

        var mark = state.held.count
        request(1, xid: 1, .getData) { GetDataRequest(path: "/", watch: true).encode(to: &$0) }
        request(1, xid: 2, .create) { _ in }
        request(1, xid: 3, .sync) { SyncRequest(path: "/").encode(to: &$0) }
        request(1, xid: 4, .exists) { ExistsRequest(path: "/zookeeper", watch: false).encode(to: &$0) }
        let answers = try replies(since: mark)
        #expect(answers.map(\.xid) == [1, 2, 3, 4])
        #expect(answers.map(\.err) == [0, ZooKeeperErrorCode.notReadOnly.rawValue, ZooKeeperErrorCode.notReadOnly.rawValue, 0])
        #expect(answers.allSatisfy { $0.zxid == state.database.lastProcessedZxid })
        #expect(!closes(commands(since: mark), 1))
        #expect(link.forwarded.withLock { $0.isEmpty }, "nothing reaches a quorum")

        mark = state.held.count
        request(1, xid: 5, .closeSession)
        #expect(try replies(since: mark).map(\.err) == [0])
        #expect(closes(commands(since: mark), 1))
        #expect(state.sessions.sessions[response.sessionId] == nil)
    }

    @Test func aLocalSessionResumesAndExpiresHere() throws {
        let first = try admit(1)
        var mark = state.held.count
        connect(2, session: first.sessionId, readOnly: true)
        #expect(sent(commands(since: mark)).count == 1)
        #expect(closes(commands(since: mark), 1), "the session's old connection goes")
        #expect(state.sessions.sessions[first.sessionId]?.connectionID == 2)

        mark = state.held.count
        state.expireReadOnlySessions(now: Int64.max / 2)
        #expect(state.sessions.sessions[first.sessionId] == nil)
        #expect(closes(commands(since: mark), 2))
    }

    @Test func aGlobalSessionIsRefusedAndAnUnknownOneExpired() throws {
        var mark = state.held.count
        connect(1, session: globalSession, readOnly: true)
        #expect(sent(commands(since: mark)).isEmpty, "Apache: refusing global session reconnection in RO mode")
        #expect(closes(commands(since: mark), 1))

        mark = state.held.count
        connect(2, session: 0x0100_0000_0000_0099, readOnly: true)
        let frames = sent(commands(since: mark))
        try #require(frames.count == 1)
        var reader = JuteReader(frames[0])
        #expect(try ConnectResponse(from: &reader).timeOut == 0)
        #expect(closes(commands(since: mark), 2))
    }

    @Test func theEndOfReadOnlyDropsEveryClient() throws {
        _ = try admit(1)
        _ = try admit(2)
        #expect(state.fourLetterWordResponse("srvr").contains("READ-ONLY mode; serving only read-only clients\n"))
        #expect(state.fourLetterWordResponse("srvr").contains("Mode: read-only\n"))
        let mark = state.held.count
        state.memberStopReadOnly()
        #expect(closes(commands(since: mark), 1) && closes(commands(since: mark), 2))
        #expect(state.sessions.sessions.isEmpty)
        #expect(state.fourLetterWordResponse("isro") == "null")
        let after = state.held.count
        connect(3, readOnly: true)
        #expect(sent(commands(since: after)).isEmpty && closes(commands(since: after), 3), "not serving: no client is admitted")
    }
}
