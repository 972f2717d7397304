#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A bare TCP connection to a ZooKeeper port for hostile-input tests: write any bytes, read
/// length-prefixed frames, notice when the server closes. Every read has a deadline.
public final class RawConnection {
    public let fd: Int32

    public init(host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(5)) throws {
        fd = try SocketHelpers.connect(host: host, port: port, deadline: SocketHelpers.nowNanos() + SocketHelpers.nanos(timeout))
    }

    deinit { close(fd) }

    /// Writes `bytes`; a reset by the server is reported as an error.
    public func write(_ bytes: [UInt8]) throws { try SocketHelpers.writeAll(fd, bytes) }

    /// Writes one frame: a 4-byte big-endian length, then `payload`.
    public func writeFrame(_ payload: [UInt8]) throws { try write(Self.int32(Int32(payload.count)) + payload) }

    /// Shuts down the sending side (the server reads EOF).
    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    public enum ReadResult: Equatable {
        case frame([UInt8])
        /// The server closed (EOF or reset) before a whole frame arrived.
        case closed
        case timedOut
    }

    /// Reads one length-prefixed frame.
    public func readFrame(within timeout: Duration = .seconds(5)) throws -> ReadResult {
        let deadline = SocketHelpers.nowNanos() + SocketHelpers.nanos(timeout)
        let header: [UInt8]
        switch try readExactly(4, deadline: deadline) {
        case .bytes(let bytes): header = bytes
        case .eof: return .closed
        case .timeout: return .timedOut
        }
        let length = Int(Int32(bigEndian: header.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
        guard length >= 0 && length < 16 << 20 else { return .closed }
        switch try readExactly(length, deadline: deadline) {
        case .bytes(let payload): return .frame(payload)
        case .eof: return .closed
        case .timeout: return .timedOut
        }
    }

    /// Reads (and discards) until the server closes; true if it did within `timeout`.
    public func waitForClose(within timeout: Duration = .seconds(5)) throws -> Bool {
        let deadline = SocketHelpers.nowNanos() + SocketHelpers.nanos(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let revents = try SocketHelpers.waitReady(fd, events: Int16(POLLIN), deadline: deadline)
            if revents == 0 { return false }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return true  // reset
            }
        }
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

    private enum Chunk: Equatable { case bytes([UInt8]), eof, timeout }

    private func readExactly(_ count: Int, deadline: UInt64) throws -> Chunk {
        var result = [UInt8]()
        result.reserveCapacity(count)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while result.count < count {
            let revents = try SocketHelpers.waitReady(fd, events: Int16(POLLIN), deadline: deadline)
            if revents == 0 { return .timeout }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, min($0.count, count - result.count), 0) }
            if n == 0 { return .eof }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .eof
            }
            result.append(contentsOf: buffer[0..<n])
        }
        return .bytes(result)
    }
}
