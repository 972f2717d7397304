import ZooKeeperProtocol

/// The output half of Apache's `FinalRequestProcessor` (with `ServerCnxn.process` for watches): the frames a
/// client is sent — replies, watch notifications, handshake answers.
///
/// Pure: it reads no table of its own; who serves a session and what a connection is authenticated as are
/// passed in. The driver holds the frames in the batch (``SyncProcessor``).
enum FinalProcessor {
    /// A notification frame for the connection that serves the watching session.
    struct Notification: Sendable, Equatable {
        var connection: UInt64
        var frame: [UInt8]
    }

    /// What a request applied to the database is answered with.
    struct Answer: Sendable, Equatable {
        /// The watches the request fired, sent before its reply (as Apache queues them while applying).
        var notifications: [Notification]
        var reply: [UInt8]
        /// The zxid the connection last saw (`cons`' `lzxid`).
        var lastZxid: Int64
        /// A refused opcode: the connection closes after the reply.
        var close: Bool
    }

    /// A reply: its header, then the response record only when it succeeded.
    static func reply(xid: Int32, zxid: Int64, err: ZooKeeperErrorCode, body: [UInt8] = []) -> [UInt8] {
        var writer = JuteWriter(capacity: 16 + body.count)
        writer.write(ReplyHeader(xid: xid, zxid: zxid, err: err.rawValue))
        if err == .ok { writer.writeRaw(body) }
        return Frame.encode(writer.bytes)
    }

    /// A ping's answer: the last zxid this server applied.
    static func pingReply(zxid: Int64) -> [UInt8] {
        reply(xid: ReservedXid.ping, zxid: zxid, err: .ok)
    }

    /// A watch event's frame (3.8 sends zxid -1).
    static func notification(_ event: WatcherEvent) -> [UInt8] {
        var writer = JuteWriter(capacity: 64)
        writer.write(ReplyHeader(xid: ReservedXid.notification, zxid: -1, err: 0))
        writer.write(event)
        return Frame.encode(writer.bytes)
    }

    /// The notifications that reach a connection, in order: a session served by no connection here gets
    /// none, and a connection that may not READ the node gets none (3.8.4, CVE-2024-23944; the watch is
    /// consumed either way).
    static func notifications(_ notifications: [WatchNotification], connectionOf: (Int64) -> UInt64?,
                              authIdsOf: (UInt64) -> [Id]) -> [Notification] {
        var frames: [Notification] = []
        for notification in notifications {
            guard let connection = connectionOf(notification.sessionId) else { continue }
            if let acl = notification.acl, !ACLPolicy.check(acl, perm: .read, ids: authIdsOf(connection)) { continue }
            frames.append(Notification(connection: connection, frame: self.notification(notification.event)))
        }
        return frames
    }

    /// The answer to a request the database processed. A refused opcode is answered as Apache's
    /// UnimplementedRequestProcessor does: zxid -1, then the connection closes.
    static func answer(_ result: ProcessResult, xid: Int32, connectionOf: (Int64) -> UInt64?,
                       authIdsOf: (UInt64) -> [Id]) -> Answer {
        let zxid = result.closeConnection ? -1 : result.replyZxid
        return Answer(notifications: notifications(result.notifications, connectionOf: connectionOf, authIdsOf: authIdsOf),
                      reply: reply(xid: xid, zxid: zxid, err: result.err, body: result.response),
                      lastZxid: result.replyZxid, close: result.closeConnection)
    }

    /// A handshake's answer (`ConnectResponse`); the read-only flag only to a client that sent one.
    static func connectResponse(timeout: Int32, session: Int64, password: [UInt8], sentReadOnly: Bool,
                                readOnly: Bool = false) -> [UInt8] {
        var writer = JuteWriter(capacity: 48)
        writer.write(Int32(0))
        writer.write(timeout)
        writer.write(session)
        writer.writeBuffer(password)
        if sentReadOnly { writer.write(readOnly) }
        return Frame.encode(writer.bytes)
    }

    /// An unknown, expired or wrong-password session's answer: timeOut 0 means "expired".
    static func expiredConnectResponse(sentReadOnly: Bool, readOnly: Bool = false) -> [UInt8] {
        connectResponse(timeout: 0, session: 0, password: [UInt8](repeating: 0, count: 16), sentReadOnly: sentReadOnly,
                        readOnly: readOnly)
    }
}
