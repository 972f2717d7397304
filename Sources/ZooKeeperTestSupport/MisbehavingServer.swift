import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny loopback TCP server that misbehaves on purpose, for client fault tests.
///
/// Listens on 127.0.0.1, port 0 (see ``port``), and serves every connection on one dedicated
/// thread with `poll()`; ``stop()`` wakes that thread through a pipe, joins it, and closes every
/// descriptor, so nothing leaks. All sockets are non-blocking on the server side: a client that
/// never reads cannot wedge the thread.
public final class MisbehavingServer: Sendable {
    public enum Mode: Sendable, Equatable {
        /// Writes these bytes to every connection, then shuts down its sending side (the client
        /// reads the bytes, then EOF) and closes once the client closes.
        case garbage([UInt8])
        /// Writes a 4-byte big-endian frame length (meant to exceed the client's `jute.maxbuffer`)
        /// followed by a few bytes of body, then keeps the connection open (reading and discarding)
        /// until the peer closes or the server stops.
        case oversizedFrame(length: Int32)
        /// Accepts and immediately closes every connection without reading (the client sees EOF,
        /// or ECONNRESET if its first bytes were already in flight).
        case closeImmediately
        /// Reads one length-prefixed frame (e.g. the client's ConnectRequest) and then closes
        /// without answering — what Apache ZooKeeper does to a client whose last seen zxid is
        /// ahead of the server's.
        case closeAfterFirstFrame
        /// Accepts, reads and discards everything, never writes.
        case silent
    }

    public let mode: Mode
    /// The bound port on 127.0.0.1.
    public let port: Int
    /// `127.0.0.1:<port>`.
    public var connectString: String { "127.0.0.1:\(port)" }

    private let counters = Counters()
    /// Connections accepted so far.
    public var acceptedConnections: Int { counters.accepted.load(ordering: .acquiring) }
    /// Bytes read from clients so far.
    public var bytesReceived: Int { counters.received.load(ordering: .acquiring) }

    private struct Control {
        var thread: pthread_t?
        var wakeWriteEnd: Int32
    }
    private let control: Mutex<Control>

    /// Binds, listens and starts the serving thread.
    public init(mode: Mode) throws {
        self.mode = mode
        let listener = try SocketHelpers.tcpSocket()
        var wake: (read: Int32, write: Int32) = (-1, -1)
        do throws(TestSupportError) {
            var one: Int32 = 1
            setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            port = Int(try SocketHelpers.bindLoopback(listener))
            guard listen(listener, 64) == 0 else { throw .posix("listen") }
            try SocketHelpers.setNonBlocking(listener)
            wake = try ChildProcess.makeLifelinePipe()
            try SocketHelpers.setNonBlocking(wake.read)
        } catch {
            close(listener)
            if wake.read >= 0 { close(wake.read) }
            if wake.write >= 0 { close(wake.write) }
            throw error
        }
        control = Mutex(Control(thread: nil, wakeWriteEnd: wake.write))

        let loop = ServeLoop(mode: mode, listener: listener, wakeReadEnd: wake.read, counters: counters)
        // The loop is handed to the new thread, which owns it from then on; this thread never
        // touches it again unless pthread_create failed (then no other thread exists).
        let context = Unmanaged.passRetained(loop).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let loop = Unmanaged<ServeLoop>.fromOpaque(raw!).takeRetainedValue()
            loop.run()
            return nil
        }, context)
        if rc != 0 {
            Unmanaged<ServeLoop>.fromOpaque(context).release()
            loop.closeAll()
            close(wake.write)
            throw TestSupportError.posix("pthread_create", rc)
        }
        control.withLock { $0.thread = thread }
    }

    deinit {
        stop()
    }

    /// Stops serving: wakes and joins the thread, which closes the listener and every connection.
    /// Idempotent.
    public func stop() {
        let (thread, wakeWriteEnd) = control.withLock { control in
            defer {
                control.thread = nil
                control.wakeWriteEnd = -1
            }
            return (control.thread, control.wakeWriteEnd)
        }
        guard let thread else { return }
        var byte: UInt8 = 1
        _ = write(wakeWriteEnd, &byte, 1)
        pthread_join(thread, nil)
        close(wakeWriteEnd)
    }
}

private final class Counters: Sendable {
    let accepted = Atomic<Int>(0)
    let received = Atomic<Int>(0)
}

/// The serving thread's state. Owned by that thread alone once started.
private final class ServeLoop {
    struct Connection {
        var fd: Int32
        var pending: [UInt8]
        var closeWhenFlushed: Bool
        var received: [UInt8] = []
    }

    let mode: MisbehavingServer.Mode
    let listener: Int32
    let wakeReadEnd: Int32
    let counters: Counters
    var connections: [Connection] = []

    init(mode: MisbehavingServer.Mode, listener: Int32, wakeReadEnd: Int32, counters: Counters) {
        self.mode = mode
        self.listener = listener
        self.wakeReadEnd = wakeReadEnd
        self.counters = counters
    }

    func run() {
        defer { closeAll() }
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            var fds = [
                pollfd(fd: wakeReadEnd, events: Int16(POLLIN), revents: 0),
                pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
            ]
            for connection in connections {
                var events = Int16(POLLIN)
                if !connection.pending.isEmpty { events |= Int16(POLLOUT) }
                fds.append(pollfd(fd: connection.fd, events: events, revents: 0))
            }
            let rc = poll(&fds, nfds_t(fds.count), -1)
            if rc < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[0].revents != 0 { return }  // stop()
            // Connections first (indices stay valid), then new ones.
            var closed = Set<Int32>()
            for (index, pfd) in fds.enumerated().dropFirst(2) where pfd.revents != 0 {
                if !service(connectionAt: index - 2, revents: pfd.revents, buffer: &buffer) {
                    closed.insert(pfd.fd)
                }
            }
            if !closed.isEmpty {
                for fd in closed { close(fd) }
                connections.removeAll { closed.contains($0.fd) }
            }
            if fds[1].revents != 0 { acceptAll() }
        }
    }

    private func acceptAll() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                return  // EAGAIN, or an error we cannot act on
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            counters.accepted.add(1, ordering: .releasing)
            switch mode {
            case .closeImmediately:
                close(fd)
                continue
            case .garbage(let bytes):
                connections.append(Connection(fd: fd, pending: bytes, closeWhenFlushed: true))
            case .oversizedFrame(let length):
                let prefix = withUnsafeBytes(of: length.bigEndian) { Array($0) }
                connections.append(
                    Connection(fd: fd, pending: prefix + Array(repeating: 0x5A, count: 16), closeWhenFlushed: false))
            case .closeAfterFirstFrame, .silent:
                connections.append(Connection(fd: fd, pending: [], closeWhenFlushed: false))
            }
            do {
                try SocketHelpers.setNonBlocking(fd)
            } catch {
                close(fd)
                connections.removeLast()
                continue
            }
            // A garbage connection with nothing to write closes at once.
            if case .garbage(let bytes) = mode, bytes.isEmpty {
                close(fd)
                connections.removeLast()
            }
        }
    }

    /// Returns false when the connection must be closed.
    private func service(connectionAt index: Int, revents: Int16, buffer: inout [UInt8]) -> Bool {
        let fd = connections[index].fd
        if revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n == 0 { return false }
            if n < 0 {
                if errno != EAGAIN && errno != EINTR { return false }
            } else {
                counters.received.add(n, ordering: .releasing)
                if mode == .closeAfterFirstFrame {
                    connections[index].received.append(contentsOf: buffer[0..<n])
                    let got = connections[index].received
                    if got.count >= 4 {
                        let length = Int(Int32(bigEndian: got[0..<4].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
                        if got.count >= 4 + max(length, 0) { return false }
                    }
                }
            }
        }
        if revents & Int16(POLLOUT) != 0 && !connections[index].pending.isEmpty {
            let pending = connections[index].pending
            let n = pending.withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno != EAGAIN && errno != EINTR { return false }
            } else {
                connections[index].pending.removeFirst(n)
                if connections[index].pending.isEmpty && connections[index].closeWhenFlushed {
                    // FIN after the bytes, then wait for the peer to close: closing with unread
                    // input would send RST, and the client could lose the bytes we wrote.
                    shutdown(fd, Int32(SHUT_WR))
                    connections[index].closeWhenFlushed = false
                }
            }
        }
        return true
    }

    func closeAll() {
        for connection in connections { close(connection.fd) }
        connections.removeAll()
        close(listener)
        close(wakeReadEnd)
    }
}
