import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// Reply, notification and handshake frames; notifications only where the connection may READ the node.
struct FinalProcessorTests {
    static func header(_ frame: [UInt8]) throws -> (ReplyHeader, rest: Int) {
        var reader = JuteReader(Array(frame.dropFirst(4)))
        let header = try ReplyHeader(from: &reader)
        return (header, frame.count - 4 - 16)
    }

    @Test func aReplyCarriesItsBodyOnlyWhenItSucceeded() throws {
        let ok = FinalProcessor.reply(xid: 7, zxid: 9, err: .ok, body: [1, 2, 3])
        let (header, rest) = try Self.header(ok)
        #expect(header == ReplyHeader(xid: 7, zxid: 9, err: 0))
        #expect(rest == 3)
        #expect(Array(ok.prefix(4)) == [0, 0, 0, 19], "length-prefixed")
        let failed = FinalProcessor.reply(xid: 7, zxid: 9, err: .noNode, body: [1, 2, 3])
        #expect(try Self.header(failed).rest == 0)
        #expect(FinalProcessor.pingReply(zxid: 5) == FinalProcessor.reply(xid: ReservedXid.ping, zxid: 5, err: .ok))
    }

    static let secret = [ACL(perms: .read, id: Id(scheme: "digest", id: "alice:x"))]

    static func changed(_ session: Int64, acl: [ACL]?) -> WatchNotification {
        WatchNotification(sessionId: session, type: .nodeDataChanged, path: "/a", acl: acl)
    }

    /// Sessions 1, 2, 3 on connections 10, 20, 30; 4 has no connection here. 20 is alice, 30 is super.
    static func frames(_ notifications: [WatchNotification]) -> [UInt64] {
        let serving: [Int64: UInt64] = [1: 10, 2: 20, 3: 30]
        let ids: [UInt64: [Id]] = [20: [Id(scheme: "digest", id: "alice:x")], 30: [Id(scheme: "super", id: "")]]
        return FinalProcessor.notifications(notifications, connectionOf: { serving[$0] }, authIdsOf: { ids[$0] ?? [] })
            .map(\.connection)
    }

    @Test func notificationsNeedReadOnTheNode() {
        let all = [Self.changed(1, acl: Self.secret), Self.changed(2, acl: Self.secret), Self.changed(3, acl: Self.secret)]
        #expect(Self.frames(all) == [20, 30], "no READ, no event (CVE-2024-23944); super reads everything")
        #expect(Self.frames([Self.changed(1, acl: nil)]) == [10], "SetWatches catch-up events are not checked")
        #expect(Self.frames([Self.changed(1, acl: [])]) == [10], "an empty ACL lets everyone read")
        #expect(Self.frames([Self.changed(4, acl: nil)]) == [], "a session not served here")
    }

    @Test func aNotificationFrameIsAWatcherEventAtZxidMinusOne() throws {
        let frame = FinalProcessor.notification(WatcherEvent(type: EventType.nodeCreated.rawValue, state: 3, path: "/x"))
        var reader = JuteReader(Array(frame.dropFirst(4)))
        #expect(try ReplyHeader(from: &reader) == ReplyHeader(xid: ReservedXid.notification, zxid: -1, err: 0))
        #expect(try WatcherEvent(from: &reader) == WatcherEvent(type: EventType.nodeCreated.rawValue, state: 3, path: "/x"))
    }

    @Test func theAnswerPutsNotificationsBeforeTheReply() throws {
        var result = ProcessResult()
        result.replyZxid = 12
        result.response = [9]
        result.notifications = [Self.changed(1, acl: nil)]
        let answer = FinalProcessor.answer(result, xid: 3, connectionOf: { $0 == 1 ? 10 : nil }, authIdsOf: { _ in [] })
        #expect(answer.notifications.map(\.connection) == [10])
        #expect(answer.reply == FinalProcessor.reply(xid: 3, zxid: 12, err: .ok, body: [9]))
        #expect(answer.lastZxid == 12)
        #expect(!answer.close)
    }

    @Test func aRefusedOpcodeIsAnsweredAtZxidMinusOneThenClosed() throws {
        var result = ProcessResult()
        result.err = .unimplemented
        result.replyZxid = 12
        result.closeConnection = true
        let answer = FinalProcessor.answer(result, xid: 3, connectionOf: { _ in nil }, authIdsOf: { _ in [] })
        #expect(try Self.header(answer.reply).0 == ReplyHeader(xid: 3, zxid: -1, err: ZooKeeperErrorCode.unimplemented.rawValue))
        #expect(answer.lastZxid == 12)
        #expect(answer.close)
    }

    @Test func theConnectResponseHasTheReadOnlyFlagOnlyIfTheClientSentOne() {
        let password = [UInt8](repeating: 7, count: 16)
        let plain = FinalProcessor.connectResponse(timeout: 4000, session: 5, password: password, sentReadOnly: false)
        let flagged = FinalProcessor.connectResponse(timeout: 4000, session: 5, password: password, sentReadOnly: true, readOnly: true)
        #expect(plain.count == 4 + 4 + 4 + 8 + 4 + 16)
        #expect(flagged.count == plain.count + 1)
        #expect(flagged.last == 1)
        let expired = FinalProcessor.expiredConnectResponse(sentReadOnly: false)
        #expect(expired == FinalProcessor.connectResponse(timeout: 0, session: 0, password: [UInt8](repeating: 0, count: 16), sentReadOnly: false))
    }
}
