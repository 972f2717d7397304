// The few socket calls the fault proxy needs beyond ZooKeeperPOSIX's Socket: a connect that never
// blocks (the relay thread must not wait for an upstream) and an abortive close (RST).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ZooKeeperPOSIX

enum FaultProxySockets {
    /// Splits `"host:port"` / `"[v6]:port"` into its parts.
    static func parse(_ hostPort: String) throws -> (host: String, port: Int) {
        guard let colon = hostPort.lastIndex(of: ":"), let port = Int(hostPort[hostPort.index(after: colon)...]),
            (1...65_535).contains(port)
        else {
            throw TestSupportError("not a host:port address: \(hostPort)")
        }
        var host = String(hostPort[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw TestSupportError("no host in \(hostPort)") }
        return (host, port)
    }

    enum ConnectStart {
        case connected(Socket)
        /// Finish with ``finishConnect(_:)`` once the socket polls writable.
        case inProgress(Socket)
    }

    /// Starts a non-blocking connect to `address`.
    static func startConnect(to address: SocketAddress) throws -> ConnectStart {
        let fd = try SocketHelpers.tcpSocket(family: address.family)
        do {
            try SocketHelpers.setNonBlocking(fd)
            let rc = address.bytes.withUnsafeBytes { raw in
                connectSystemCall(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
            }
            let socket = Socket(fd: fd)
            socket.setNoDelay()
            if rc == 0 { return .connected(socket) }
            guard errno == EINPROGRESS || errno == EINTR else { throw TestSupportError.posix("connect(\(address))") }
            return .inProgress(socket)
        } catch {
            close(fd)
            throw error
        }
    }

    /// The outcome of a connect that was in progress and is now writable: nil when it succeeded.
    static func connectError(_ socket: Socket) -> Int32? {
        var status: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(socket.fd, SOL_SOCKET, SO_ERROR, &status, &length) == 0 else { return errno }
        return status == 0 ? nil : status
    }

    /// Closes `socket` abortively: SO_LINGER 0 makes the kernel send RST instead of FIN.
    static func reset(_ socket: Socket) {
        var option = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(socket.fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        socket.close()
    }
}

/// The C `connect`, named apart from Swift-level helpers called `connect`.
private func connectSystemCall(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    connect(fd, address, length)
}
