// Small blocking/non-blocking socket helpers over Glibc for the test-support code only
// (four-letter words, free-port picking, the misbehaving server). The production socket layer
// lives in ZooKeeperPOSIX; this file deliberately does not depend on it so the fixtures keep
// working while that layer changes.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from the test-support code: what failed and, for system calls, `errno`'s text.
public struct TestSupportError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    static func posix(_ call: String, _ code: Int32 = errno) -> TestSupportError {
        TestSupportError("\(call) failed: \(String(cString: strerror(code))) (errno \(code))")
    }
}

public enum SocketHelpers {
    /// A monotonic clock reading in nanoseconds.
    static func nowNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func nanos(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 { return 0 }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }

    /// A new TCP socket with close-on-exec set, so it never leaks into spawned JVMs.
    static func tcpSocket(family: Int32 = AF_INET) throws(TestSupportError) -> Int32 {
        #if canImport(Glibc)
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(family, SOCK_STREAM, 0)
        if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        #endif
        if fd < 0 { throw .posix("socket") }
        return fd
    }

    static func setNonBlocking(_ fd: Int32, _ on: Bool = true) throws(TestSupportError) {
        let flags = fcntl(fd, F_GETFL)
        if flags < 0 { throw .posix("fcntl(F_GETFL)") }
        let updated = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        if fcntl(fd, F_SETFL, updated) < 0 { throw .posix("fcntl(F_SETFL)") }
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    /// Binds `fd` to 127.0.0.1:`port` (0 = any free port) and returns the bound port.
    static func bindLoopback(_ fd: Int32, port: UInt16 = 0) throws(TestSupportError) -> UInt16 {
        var address = loopback(port: port)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if rc != 0 { throw .posix("bind(127.0.0.1:\(port))") }
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc2 = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        if rc2 != 0 { throw .posix("getsockname") }
        return UInt16(bigEndian: bound.sin_port)
    }

    /// A port that was free on 127.0.0.1 a moment ago (bind port 0, read it, close). Another
    /// process can take it before the caller binds it; callers must retry on "address in use".
    public static func freeLoopbackPort() throws(TestSupportError) -> Int {
        let fd = try tcpSocket()
        defer { close(fd) }
        return Int(try bindLoopback(fd))
    }

    /// Waits until `fd` is ready for `events` or `deadline` (monotonic ns) passes.
    /// Returns the revents, or 0 on timeout.
    static func waitReady(_ fd: Int32, events: Int16, deadline: UInt64) throws(TestSupportError) -> Int16 {
        while true {
            let now = nowNanos()
            if now >= deadline { return 0 }
            let millis = Int32(min((deadline - now + 999_999) / 1_000_000, UInt64(Int32.max)))
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&pfd, 1, millis)
            if rc > 0 { return pfd.revents }
            if rc == 0 { continue }
            if errno == EINTR { continue }
            throw .posix("poll")
        }
    }

    /// Resolves `host` (name or literal) to its first TCP address for `port`.
    static func resolve(host: String, port: Int) throws(TestSupportError) -> (family: Int32, address: [UInt8]) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        if rc != 0 {
            throw TestSupportError("getaddrinfo(\(host)) failed: \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(result) }
        guard let info = result, let addr = info.pointee.ai_addr else {
            throw TestSupportError("getaddrinfo(\(host)) returned no address")
        }
        let bytes = UnsafeRawBufferPointer(start: addr, count: Int(info.pointee.ai_addrlen))
        return (info.pointee.ai_family, Array(bytes))
    }

    /// Connects a blocking TCP socket to `host:port`, giving up at `deadline`.
    static func connect(host: String, port: Int, deadline: UInt64) throws(TestSupportError) -> Int32 {
        let (family, address) = try resolve(host: host, port: port)
        let fd = try tcpSocket(family: family)
        do throws(TestSupportError) {
            try setNonBlocking(fd)
            let rc = address.withUnsafeBytes {
                systemConnect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
            }
            if rc != 0 {
                guard errno == EINPROGRESS else { throw TestSupportError.posix("connect(\(host):\(port))") }
                let revents = try waitReady(fd, events: Int16(POLLOUT), deadline: deadline)
                if revents == 0 { throw TestSupportError("connect(\(host):\(port)) timed out") }
                var soError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
                if soError != 0 { throw TestSupportError.posix("connect(\(host):\(port))", soError) }
            }
            try setNonBlocking(fd, false)
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    /// Writes all of `bytes` to a blocking socket (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(TestSupportError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .posix("send")
            }
            offset += n
        }
    }

    /// Reads until EOF or `deadline`; throws on timeout.
    static func readToEOF(_ fd: Int32, deadline: UInt64) throws(TestSupportError) -> [UInt8] {
        var result = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let revents = try waitReady(fd, events: Int16(POLLIN), deadline: deadline)
            if revents == 0 { throw TestSupportError("read timed out after \(result.count) bytes") }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n == 0 { return result }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == ECONNRESET { return result }
                throw .posix("recv")
            }
            result.append(contentsOf: buffer[0..<n])
        }
    }
}

/// The C `connect`, named apart from ``SocketHelpers/connect(host:port:deadline:)``.
private func systemConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    connect(fd, address, length)
}
