import Foundation
import Synchronization
import ZooKeeperPOSIX
import ZooKeeperProtocol

/// A loopback server whose every connection is handled by a test-supplied script, for faults a real
/// server will not produce on demand: a silent server after the handshake, an oversized or garbage
/// frame mid-session, replies out of order, unknown error codes.
///
/// Each accepted connection runs the script on its own thread with a ``ScriptedConnection``.
/// ``stop()`` returns once the listener is closed (new connections are refused) and every open
/// connection is shut down (its peer reads EOF; its script sees the end and returns).
public final class ScriptedServer: Sendable {
    public let port: Int
    /// The loopback address it listens on (`127.0.0.1` or `::1`).
    public let host: String
    public var connectString: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    private let shared: Shared
    private let wakeup: WakeupPipe

    private final class Shared: Sendable {
        struct Connections {
            var stopped = false
            /// Open connections by index; a connection is closed (under the lock) when its script returns.
            var open: [Int: Socket] = [:]
        }
        let accepted = Atomic<Int>(0)
        let connections = Mutex(Connections())
        /// Signalled by the accepting thread once it has closed the listener.
        let listenerClosed = DispatchSemaphore(value: 0)
    }

    /// How many connections were accepted so far.
    public var acceptedConnections: Int { shared.accepted.load(ordering: .acquiring) }

    /// Starts listening on `host` (port 0) and runs `script(connection, index)` per connection (index from 1).
    public init(host: String = "127.0.0.1", script: @escaping @Sendable (ScriptedConnection, Int) -> Void) throws {
        self.host = host
        let listener = try Socket.listen(host: host, port: 0)
        port = listener.localAddress?.port ?? 0
        do {
            wakeup = try WakeupPipe()
        } catch {
            listener.close()
            throw error
        }
        let shared = Shared()
        self.shared = shared
        let thread = Thread { [wakeup] in
            defer {
                listener.close()
                shared.listenerClosed.signal()
            }
            while true {
                var fds = [pollfd(fd: listener.fd, events: Poller.readable, revents: 0),
                           pollfd(fd: wakeup.readFD, events: Poller.readable, revents: 0)]
                guard (try? Poller.poll(&fds, timeout: nil)) != nil, fds[1].revents == 0 else { return }
                guard fds[0].revents != 0, let socket = try? listener.accept() else { continue }
                let index = shared.accepted.add(1, ordering: .acquiringAndReleasing).newValue
                // Registered under the lock that stop() takes: a connection accepted while stopping
                // is closed here rather than left running.
                let registered = shared.connections.withLock { connections in
                    guard !connections.stopped else { return false }
                    connections.open[index] = socket
                    return true
                }
                guard registered else {
                    socket.close()
                    return
                }
                let worker = Thread {
                    script(ScriptedConnection(socket: socket), index)
                    shared.connections.withLock { connections in
                        if let socket = connections.open.removeValue(forKey: index) { socket.close() }
                    }
                }
                worker.start()
            }
        }
        thread.start()
    }

    /// Stops accepting (the listener is closed when this returns) and shuts down every connection
    /// (scripts see EOF / errors and return). Idempotent.
    public func stop() {
        let first = shared.connections.withLock { connections in
            defer { connections.stopped = true }
            // Shut down (not close) under the lock: the scripts' threads close their own sockets.
            for socket in connections.open.values { socket.shutdown() }
            return !connections.stopped
        }
        guard first else { return }
        wakeup.wake()
        // The accepting thread wakes at once; the bound only guards against a wedged thread.
        _ = shared.listenerClosed.wait(timeout: .now() + 10)
    }

    deinit { stop() }
}

/// One connection of a ``ScriptedServer``: blocking helpers with deadlines, for scripts.
public struct ScriptedConnection: Sendable {
    let socket: Socket

    /// Wraps a socket a test accepted itself (e.g. from a listener with a full backlog).
    package init(socket: Socket) { self.socket = socket }

    /// Reads one frame body, exactly (nothing past it is consumed); nil on EOF, error, timeout or a
    /// length prefix out of range (negative, or 16 MiB and more).
    public func readFrame(timeout: Duration = .seconds(10)) -> [UInt8]? {
        guard case .bytes(let body) = socket.receiveFrame(deadline: .now + timeout) else { return nil }
        return body
    }

    /// Reads exactly `count` raw bytes, unframed (a four-letter word, or a frame's length prefix).
    /// Nil on EOF, error or timeout.
    public func readBytes(_ count: Int, timeout: Duration = .seconds(10)) -> [UInt8]? {
        guard case .bytes(let bytes) = socket.receive(exactly: count, deadline: .now + timeout) else { return nil }
        return bytes
    }

    /// Reads whatever arrives next (up to 16 KiB), waiting at most `timeout` (nil: until something
    /// arrives, the peer closes, or the server stops). Nil on EOF, error or timeout.
    public func readAvailable(timeout: Duration? = .seconds(10)) -> [UInt8]? {
        guard case .bytes(let bytes) = socket.receive(upTo: 16_384, deadline: timeout.map { .now + $0 }) else { return nil }
        return bytes
    }

    /// Writes raw bytes (errors ignored: the peer may be gone).
    public func write(_ bytes: [UInt8]) {
        try? socket.writeAll(bytes, timeout: .seconds(5))
    }

    /// Reads the ConnectRequest and answers with a session (timeout in ms; 0 answers "expired", as
    /// Apache does for an unknown session; `readOnly` plays a partitioned read-only server).
    @discardableResult
    public func acceptHandshake(sessionId: Int64 = 0x1234, timeoutMs: Int32 = 3000, readOnly: Bool = false) -> ConnectRequest? {
        guard let request = readConnectRequest() else { return nil }
        answerHandshake(request, sessionId: sessionId, timeoutMs: timeoutMs, readOnly: readOnly)
        return request
    }

    /// Reads the ConnectRequest without answering. Scripts tell a client's first connection from its
    /// reconnects by `sessionId == 0`, which stays true however many attempts a loaded machine needs.
    public func readConnectRequest() -> ConnectRequest? {
        guard let frame = readFrame() else { return nil }
        return try? ConnectRequest(juteBytes: frame)
    }

    /// Answers a ConnectRequest (see ``acceptHandshake(sessionId:timeoutMs:readOnly:)``).
    public func answerHandshake(_ request: ConnectRequest, sessionId: Int64 = 0x1234, timeoutMs: Int32 = 3000, readOnly: Bool = false) {
        let expired = timeoutMs <= 0
        let response = ConnectResponse(protocolVersion: 0, timeOut: expired ? 0 : timeoutMs,
                                       sessionId: expired ? 0 : (request.sessionId != 0 ? request.sessionId : sessionId),
                                       passwd: [UInt8](repeating: expired ? 0 : 7, count: 16), readOnly: readOnly)
        write(Frame.encode(response.juteBytes()))
    }

    /// Reads the next request that is not a ping, answering pings on the way (a loaded client may
    /// ping before its first request). Nil on EOF or timeout.
    public func readRequestSkippingPings(zxid: Int64 = 0x10) -> (header: RequestHeader, body: [UInt8])? {
        while let frame = readFrame() {
            var reader = JuteReader(frame)
            guard let header = try? RequestHeader(from: &reader) else { return nil }
            if header.xid == ReservedXid.ping {
                var writer = JuteWriter()
                writer.write(ReplyHeader(xid: ReservedXid.ping, zxid: zxid, err: 0))
                write(Frame.encode(writer.bytes))
                continue
            }
            return (header, reader.readRemaining())
        }
        return nil
    }

    /// Reads request frames until EOF, calling `reply` for each (header xid/type + body).
    public func serveRequests(_ reply: (RequestHeader, [UInt8]) -> [UInt8]?) {
        while let frame = readFrame(timeout: .seconds(30)) {
            var reader = JuteReader(frame)
            guard let header = try? RequestHeader(from: &reader) else { return }
            if let answer = reply(header, reader.readRemaining()) { write(answer) }
        }
    }

    /// Waits until the peer closes (or the timeout passes), discarding input.
    public func drainUntilClosed(timeout: Duration = .seconds(30)) {
        while readFrame(timeout: timeout) != nil {}
    }

    /// Ends the sending side only: the peer reads what was written, then EOF; reading goes on.
    public func finishWriting() {
        socket.shutdownWrite()
    }

    /// Ends the connection (the peer sees EOF); the socket is closed when the script returns.
    public func close() {
        socket.shutdown()
    }
}
