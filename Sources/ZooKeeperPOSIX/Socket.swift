#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A non-blocking TCP socket. Owned by one thread at a time; closing it is explicit.
package struct Socket: Sendable {
    package let fd: Int32

    package init(fd: Int32) { self.fd = fd }

    /// The outcome of a non-blocking read.
    package enum ReadResult: Equatable {
        case bytes(Int)
        case wouldBlock
        case endOfFile
    }

    private static func makeStreamSocket(family: Int32) throws(SocketError) -> Socket {
        #if canImport(Glibc)
        let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = Darwin.socket(family, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw SocketError.lastError("socket") }
        let socket = Socket(fd: fd)
        socket.suppressSigPipe()
        do throws(SocketError) {
            try socket.setNonBlocking()
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    /// Darwin has no `MSG_NOSIGNAL`: without `SO_NOSIGPIPE` a write to a reset socket kills the process.
    private func suppressSigPipe() {
        #if canImport(Darwin)
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    private func setNonBlocking() throws(SocketError) {
        let flags = fcntl(fd, F_GETFL, 0)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) >= 0 else { throw SocketError.lastError("fcntl") }
    }

    /// Disables Nagle's algorithm: requests are small and latency-bound.
    package func setNoDelay() {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Starts a non-blocking connect to `address`. Returns the socket and whether it is already
    /// connected; if not, wait until it is writable, then call ``finishConnect()``.
    package static func startConnect(to address: SocketAddress) throws(SocketError) -> (socket: Socket, connected: Bool) {
        let socket = try makeStreamSocket(family: address.family)
        let result = address.withSockAddr { pointer, length in
            #if canImport(Glibc)
            Glibc.connect(socket.fd, pointer, length)
            #else
            Darwin.connect(socket.fd, pointer, length)
            #endif
        }
        if result == 0 {
            socket.setNoDelay()
            return (socket, true)
        }
        let code = errno
        guard code == EINPROGRESS || code == EINTR else {
            socket.close()
            throw .system(call: "connect", errno: code)
        }
        return (socket, false)
    }

    /// Completes a connect started by ``startConnect(to:)`` once the socket polled writable.
    package func finishConnect() throws(SocketError) {
        var status: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &status, &length) == 0 else { throw SocketError.lastError("getsockopt") }
        if status != 0 { throw .system(call: "connect", errno: status) }
        setNoDelay()
    }

    /// Connects to `address`, waiting at most `timeout`; a readable `interruptFD` (a wake-up pipe) aborts the wait.
    package static func connect(
        to address: SocketAddress, timeout: Duration, interruptFD: Int32? = nil
    ) throws(SocketError) -> Socket {
        let (socket, connected) = try startConnect(to: address)
        if connected { return socket }
        do throws(SocketError) {
            var fds = [pollfd(fd: socket.fd, events: Int16(POLLOUT), revents: 0)]
            if let interruptFD { fds.append(pollfd(fd: interruptFD, events: Int16(POLLIN), revents: 0)) }
            let ready = try Poller.poll(&fds, timeout: timeout)
            guard ready > 0 else { throw .timedOut(operation: "connect to \(address)") }
            if fds[0].revents == 0 { throw .interrupted }
            try socket.finishConnect()
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    /// Reads up to `buffer.count` bytes into `buffer`.
    package func read(into buffer: inout [UInt8]) throws(SocketError) -> ReadResult {
        while true {
            let count = buffer.withUnsafeMutableBytes { raw in
                recv(fd, raw.baseAddress, raw.count, 0)
            }
            if count > 0 { return .bytes(count) }
            if count == 0 { return .endOfFile }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            throw .system(call: "recv", errno: code)
        }
    }

    /// Writes as much of `bytes[offset...]` as the kernel takes now; returns how many bytes were written.
    package func write(_ bytes: [UInt8], from offset: Int) throws(SocketError) -> Int {
        guard offset < bytes.count else { return 0 }
        while true {
            let count = bytes.withUnsafeBytes { raw in
                #if canImport(Glibc)
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                #else
                send(fd, raw.baseAddress! + offset, raw.count - offset, 0)
                #endif
            }
            if count >= 0 { return count }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return 0 }
            throw .system(call: "send", errno: code)
        }
    }

    /// Writes all of `bytes`, waiting for the socket as needed, up to `timeout`.
    package func writeAll(_ bytes: [UInt8], timeout: Duration) throws(SocketError) {
        var offset = 0
        let deadline = ContinuousClock.now + timeout
        while offset < bytes.count {
            offset += try write(bytes, from: offset)
            if offset < bytes.count {
                let left = deadline - ContinuousClock.now
                guard left > .zero, try Poller.waitFor(fd: fd, events: Int16(POLLOUT), timeout: left) else {
                    throw .timedOut(operation: "write")
                }
            }
        }
    }

    /// Shuts down both directions, waking any thread polling this socket.
    package func shutdown() {
        #if canImport(Glibc)
        shutdown(how: Int32(SHUT_RDWR))
        #else
        shutdown(how: SHUT_RDWR)
        #endif
    }

    /// Shuts down the sending side only: the peer reads EOF after what was written; reading goes on.
    package func shutdownWrite() {
        #if canImport(Glibc)
        shutdown(how: Int32(SHUT_WR))
        #else
        shutdown(how: SHUT_WR)
        #endif
    }

    private func shutdown(how: Int32) {
        #if canImport(Glibc)
        _ = Glibc.shutdown(fd, how)
        #else
        _ = Darwin.shutdown(fd, how)
        #endif
    }

    /// Closes abortively: SO_LINGER 0 makes the kernel send RST instead of FIN (a fault proxy's reset).
    package func reset() {
        var option = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        close()
    }

    package func close() {
        #if canImport(Glibc)
        _ = Glibc.close(fd)
        #else
        _ = Darwin.close(fd)
        #endif
    }

    /// The peer's address, if connected.
    package var peerAddress: SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard result == 0 else { return nil }
        return withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress(raw: $0, length: length) }
        }
    }

    /// The local address.
    package var localAddress: SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return nil }
        return withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { SocketAddress(raw: $0, length: length) }
        }
    }

    /// Opens a listening socket on `host:port` (port 0 = any free port).
    package static func listen(host: String, port: Int, backlog: Int32 = 128) throws(SocketError) -> Socket {
        guard let address = try SocketAddress.resolve(host: host, port: port).first else {
            throw .resolutionFailed(host: host, message: "no address")
        }
        let socket = try makeStreamSocket(family: address.family)
        var one: Int32 = 1
        _ = setsockopt(socket.fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = address.withSockAddr { pointer, length in bind(socket.fd, pointer, length) }
        #if canImport(Glibc)
        let listening = bound == 0 ? Glibc.listen(socket.fd, backlog) : -1
        #else
        let listening = bound == 0 ? Darwin.listen(socket.fd, backlog) : -1
        #endif
        guard listening == 0 else {
            let error = SocketError.lastError(bound == 0 ? "listen" : "bind")
            socket.close()
            throw error
        }
        return socket
    }

    /// Accepts one pending connection, or `nil` if none is waiting.
    package func accept() throws(SocketError) -> Socket? {
        while true {
            #if canImport(Glibc)
            let client = Glibc.accept(fd, nil, nil)
            #else
            let client = Darwin.accept(fd, nil, nil)
            #endif
            if client >= 0 {
                let socket = Socket(fd: client)
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                socket.suppressSigPipe()
                do throws(SocketError) {
                    try socket.setNonBlocking()
                } catch {
                    socket.close()
                    throw error
                }
                socket.setNoDelay()
                return socket
            }
            let code = errno
            if code == EINTR || code == ECONNABORTED { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return nil }
            throw .system(call: "accept", errno: code)
        }
    }
}
