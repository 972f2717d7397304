import ZooKeeperPOSIX

/// A bare TCP connection to a ZooKeeper port for hostile-input tests: write any bytes, read
/// length-prefixed frames, notice when the server closes. Every read and write has a deadline.
public final class RawConnection {
    private let socket: Socket
    /// Set by ``reset()``: the descriptor is closed and may already belong to someone else.
    private var isClosed = false
    public var fd: Int32 { socket.fd }

    public init(host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(5)) throws {
        socket = try Socket.connect(host: host, port: port, timeout: timeout)
    }

    deinit { if !isClosed { socket.close() } }

    /// Closes abortively (RST, no TIME_WAIT left behind); the connection is unusable afterwards.
    public func reset() {
        guard !isClosed else { return }
        isClosed = true
        socket.reset()
    }

    /// Writes `bytes` (within `timeout`); a reset by the server is reported as an error.
    public func write(_ bytes: [UInt8], timeout: Duration = .seconds(10)) throws {
        try socket.writeAll(bytes, timeout: timeout)
    }

    /// Writes one frame: a 4-byte big-endian length, then `payload`.
    public func writeFrame(_ payload: [UInt8]) throws { try write(Self.int32(Int32(payload.count)) + payload) }

    /// Shuts down the sending side (the server reads EOF).
    public func shutdownWrite() { socket.shutdownWrite() }

    public enum ReadResult: Equatable {
        case frame([UInt8])
        /// The server closed (EOF or reset) before a whole frame arrived.
        case closed
        case timedOut
    }

    /// Reads one length-prefixed frame.
    public func readFrame(within timeout: Duration = .seconds(5)) throws -> ReadResult {
        switch socket.receiveFrame(deadline: .now + timeout) {
        case .bytes(let payload): return .frame(payload)
        case .closed: return .closed
        case .timedOut: return .timedOut
        }
    }

    /// Exactly `count` raw bytes; throws if the server closes or `timeout` passes first.
    public func read(_ count: Int, within timeout: Duration = .seconds(5)) throws -> [UInt8] {
        switch socket.receive(exactly: count, deadline: .now + timeout) {
        case .bytes(let bytes): return bytes
        case .closed: throw TestSupportError("the connection ended before \(count) bytes arrived")
        case .timedOut: throw TimeoutError(duration: timeout, what: "read \(count) bytes")
        }
    }

    /// Everything the server sends until it closes; throws if it has not closed within `timeout`.
    public func readToEnd(within timeout: Duration = .seconds(5)) throws -> [UInt8] {
        let (bytes, closed) = socket.receiveUntilClosed(deadline: .now + timeout)
        guard closed else { throw TimeoutError(duration: timeout, what: "the server to close (\(bytes.count) bytes so far)") }
        return bytes
    }

    /// True if bytes or an EOF arrive within `window` (nothing is consumed): used to assert silence.
    public func isReadable(within window: Duration) throws -> Bool {
        try Poller.waitFor(fd: socket.fd, events: Poller.readable, timeout: window)
    }

    /// Reads (and discards) until the server closes; true if it did within `timeout`.
    public func waitForClose(within timeout: Duration = .seconds(5)) throws -> Bool {
        socket.receiveUntilClosed(deadline: .now + timeout).closed
    }

    /// The ConnectRequest of a new session (protocol 0, no session, 16 zero password bytes, readOnly false).
    public static func connectRequest(timeoutMilliseconds: Int32 = 10_000) -> [UInt8] {
        int32(0) + int64(0) + int32(timeoutMilliseconds) + int64(0) + int32(16) + [UInt8](repeating: 0, count: 16) + [0]
    }

    /// Sends a ConnectRequest and reads the ConnectResponse; returns the session id.
    public func handshake(timeoutMilliseconds: Int32 = 10_000) throws -> Int64 {
        try writeFrame(Self.connectRequest(timeoutMilliseconds: timeoutMilliseconds))
        guard case .frame(let response) = try readFrame(), response.count >= 16 else {
            throw TestSupportError("no ConnectResponse")
        }
        return Int64(bigEndian: Array(response[8..<16]).withUnsafeBytes { $0.loadUnaligned(as: Int64.self) })
    }

    // Jute helpers.
    public static func int32(_ value: Int32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
    public static func int64(_ value: Int64) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
    public static func string(_ value: String) -> [UInt8] { int32(Int32(value.utf8.count)) + Array(value.utf8) }
    /// The `err` field of a reply frame (ReplyHeader: xid, zxid, err), or nil if too short.
    public static func replyError(_ frame: [UInt8]) -> Int32? {
        guard frame.count >= 16 else { return nil }
        return Int32(bigEndian: Array(frame[12..<16]).withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })
    }
    public static func replyXid(_ frame: [UInt8]) -> Int32? {
        guard frame.count >= 4 else { return nil }
        return Int32(bigEndian: Array(frame[0..<4]).withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })
    }
}
