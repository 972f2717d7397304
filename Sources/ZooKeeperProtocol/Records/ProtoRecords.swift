// Records of jute module `org.apache.zookeeper.proto`: the handshake, headers, auth and events.

/// The first packet of a connection (`ConnectRequest`), sent without a `RequestHeader`.
///
/// Notable behaviours: 3.8's jute file lacks `readOnly`, but 3.8 clients append it by hand and
/// 3.9 made it a field (ZOOKEEPER-4492). It is always encoded; when decoding it is read only if
/// bytes remain, otherwise it is `false` (an "old client").
public struct ConnectRequest: Hashable, Sendable {
    /// Always 0.
    public var protocolVersion: Int32
    /// The largest zxid the client has seen; a server behind it refuses the session.
    public var lastZxidSeen: Int64
    /// Requested session timeout in milliseconds.
    public var timeOut: Int32
    /// 0 for a new session.
    public var sessionId: Int64
    /// The session password, 16 zero bytes for a new session.
    public var passwd: [UInt8]
    /// Whether the client accepts a read-only server.
    public var readOnly: Bool

    public init(
        protocolVersion: Int32, lastZxidSeen: Int64, timeOut: Int32, sessionId: Int64, passwd: [UInt8],
        readOnly: Bool
    ) {
        self.protocolVersion = protocolVersion
        self.lastZxidSeen = lastZxidSeen
        self.timeOut = timeOut
        self.sessionId = sessionId
        self.passwd = passwd
        self.readOnly = readOnly
    }
}

extension ConnectRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(protocolVersion)
        writer.write(lastZxidSeen)
        writer.write(timeOut)
        writer.write(sessionId)
        writer.writeBuffer(passwd)
        writer.write(readOnly)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        protocolVersion = try reader.readInt32()
        lastZxidSeen = try reader.readInt64()
        timeOut = try reader.readInt32()
        sessionId = try reader.readInt64()
        passwd = try reader.readBuffer()
        // Absent when an old peer omits it.
        readOnly = try reader.remaining > 0 ? reader.readBool() : false
    }
}

/// The server's answer to a ``ConnectRequest`` (`ConnectResponse`), sent without a `ReplyHeader`.
///
/// Notable behaviours: `timeOut == 0` means the session is expired or invalid. `readOnly` is
/// always encoded and decoded only if bytes remain (the server echoes it only when the client sent it).
public struct ConnectResponse: Hashable, Sendable {
    public var protocolVersion: Int32
    /// Negotiated session timeout in milliseconds; 0 if the session is invalid.
    public var timeOut: Int32
    public var sessionId: Int64
    public var passwd: [UInt8]
    /// Whether the server is in read-only mode.
    public var readOnly: Bool
    public init(protocolVersion: Int32, timeOut: Int32, sessionId: Int64, passwd: [UInt8], readOnly: Bool) {
        self.protocolVersion = protocolVersion
        self.timeOut = timeOut
        self.sessionId = sessionId
        self.passwd = passwd
        self.readOnly = readOnly
    }
}

extension ConnectResponse: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(protocolVersion)
        writer.write(timeOut)
        writer.write(sessionId)
        writer.writeBuffer(passwd)
        writer.write(readOnly)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        protocolVersion = try reader.readInt32()
        timeOut = try reader.readInt32()
        sessionId = try reader.readInt64()
        passwd = try reader.readBuffer()
        // Absent when an old peer omits it.
        readOnly = try reader.remaining > 0 ? reader.readBool() : false
    }
}

/// Re-registers one-shot watches after a reconnect (`SetWatches`, opcode 101, xid -8).
public struct SetWatches: Hashable, Sendable {
    public var relativeZxid: Int64
    public var dataWatches: [String]
    public var existWatches: [String]
    public var childWatches: [String]
    public init(relativeZxid: Int64, dataWatches: [String], existWatches: [String], childWatches: [String]) {
        self.relativeZxid = relativeZxid
        self.dataWatches = dataWatches
        self.existWatches = existWatches
        self.childWatches = childWatches
    }
}

extension SetWatches: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(relativeZxid)
        writer.writeStringVector(dataWatches)
        writer.writeStringVector(existWatches)
        writer.writeStringVector(childWatches)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        relativeZxid = try reader.readInt64()
        dataWatches = try reader.readStringVector()
        existWatches = try reader.readStringVector()
        childWatches = try reader.readStringVector()
    }
}

/// Re-registers one-shot and persistent watches after a reconnect (`SetWatches2`, opcode 105, xid -8).
///
/// Notable behaviours: persistent watches are only re-added; the server replays no events for them.
public struct SetWatches2: Hashable, Sendable {
    public var relativeZxid: Int64
    public var dataWatches: [String]
    public var existWatches: [String]
    public var childWatches: [String]
    public var persistentWatches: [String]
    public var persistentRecursiveWatches: [String]

    public init(
        relativeZxid: Int64, dataWatches: [String], existWatches: [String], childWatches: [String],
        persistentWatches: [String], persistentRecursiveWatches: [String]
    ) {
        self.relativeZxid = relativeZxid
        self.dataWatches = dataWatches
        self.existWatches = existWatches
        self.childWatches = childWatches
        self.persistentWatches = persistentWatches
        self.persistentRecursiveWatches = persistentRecursiveWatches
    }
}

extension SetWatches2: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(relativeZxid)
        writer.writeStringVector(dataWatches)
        writer.writeStringVector(existWatches)
        writer.writeStringVector(childWatches)
        writer.writeStringVector(persistentWatches)
        writer.writeStringVector(persistentRecursiveWatches)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        relativeZxid = try reader.readInt64()
        dataWatches = try reader.readStringVector()
        existWatches = try reader.readStringVector()
        childWatches = try reader.readStringVector()
        persistentWatches = try reader.readStringVector()
        persistentRecursiveWatches = try reader.readStringVector()
    }
}

/// Precedes every client request except ``ConnectRequest`` (`RequestHeader`).
public struct RequestHeader: Hashable, Sendable {
    public var xid: Int32
    /// An ``OpCode`` raw value.
    public var type: Int32
    public init(xid: Int32, type: Int32) {
        self.xid = xid
        self.type = type
    }
}

extension RequestHeader: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(xid)
        writer.write(type)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        xid = try reader.readInt32()
        type = try reader.readInt32()
    }
}

/// Precedes each op and each result inside a multi (`MultiHeader`); `done == true` ends the list.
public struct MultiHeader: Hashable, Sendable {
    public var type: Int32
    public var done: Bool
    public var err: Int32
    public init(type: Int32, done: Bool, err: Int32) {
        self.type = type
        self.done = done
        self.err = err
    }
}

extension MultiHeader: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(type)
        writer.write(done)
        writer.write(err)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        type = try reader.readInt32()
        done = try reader.readBool()
        err = try reader.readInt32()
    }
}

/// Adds authentication to the session (`AuthPacket`, opcode 100, xid -4).
///
/// Notable behaviours: on failure the server replies -115 and closes the connection.
public struct AuthPacket: Hashable, Sendable {
    public var type: Int32
    public var scheme: String
    public var auth: [UInt8]
    public init(type: Int32, scheme: String, auth: [UInt8]) {
        self.type = type
        self.scheme = scheme
        self.auth = auth
    }
}

extension AuthPacket: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(type)
        writer.writeString(scheme)
        writer.writeBuffer(auth)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        type = try reader.readInt32()
        scheme = try reader.readString()
        auth = try reader.readBuffer()
    }
}

/// Precedes every server reply except ``ConnectResponse`` (`ReplyHeader`); a body follows only if `err == 0`.
public struct ReplyHeader: Hashable, Sendable {
    public var xid: Int32
    /// The server's last processed zxid.
    public var zxid: Int64
    /// A ``ZooKeeperErrorCode`` raw value.
    public var err: Int32
    public init(xid: Int32, zxid: Int64, err: Int32) {
        self.xid = xid
        self.zxid = zxid
        self.err = err
    }
}

extension ReplyHeader: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(xid)
        writer.write(zxid)
        writer.write(err)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        xid = try reader.readInt32()
        zxid = try reader.readInt64()
        err = try reader.readInt32()
    }
}

/// A SASL token from the client (`GetSASLRequest`, opcode 102).
public struct GetSASLRequest: Hashable, Sendable {
    public var token: [UInt8]
    public init(token: [UInt8]) {
        self.token = token
    }
}

extension GetSASLRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeBuffer(token)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        token = try reader.readBuffer()
    }
}

/// A SASL token (`SetSASLRequest`).
public struct SetSASLRequest: Hashable, Sendable {
    public var token: [UInt8]
    public init(token: [UInt8]) {
        self.token = token
    }
}

extension SetSASLRequest: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeBuffer(token)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        token = try reader.readBuffer()
    }
}

/// The server's SASL token (`SetSASLResponse`).
public struct SetSASLResponse: Hashable, Sendable {
    public var token: [UInt8]
    public init(token: [UInt8]) {
        self.token = token
    }
}

extension SetSASLResponse: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.writeBuffer(token)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        token = try reader.readBuffer()
    }
}

/// A watch notification (`WatcherEvent`), sent with xid -1. `type` is an ``EventType``, `state` a ``KeeperState``.
public struct WatcherEvent: Hashable, Sendable {
    public var type: Int32
    public var state: Int32
    public var path: String
    public init(type: Int32, state: Int32, path: String) {
        self.type = type
        self.state = state
        self.path = path
    }
}

extension WatcherEvent: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(type)
        writer.write(state)
        writer.writeString(path)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        type = try reader.readInt32()
        state = try reader.readInt32()
        path = try reader.readString()
    }
}

/// An error result inside a multi, or the body of an `addWatch` reply (`ErrorResponse`).
public struct ErrorResponse: Hashable, Sendable {
    public var err: Int32
    public init(err: Int32) {
        self.err = err
    }
}

extension ErrorResponse: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        writer.write(err)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        err = try reader.readInt32()
    }
}
