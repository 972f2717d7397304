import Foundation
import Synchronization
import ZooKeeperPOSIX
import ZooKeeperProtocol

/// A loopback server whose every connection is handled by a test-supplied script, for faults a real
/// server will not produce on demand: a silent server after the handshake, an oversized or garbage
/// frame mid-session, replies out of order, unknown error codes.
///
/// Each accepted connection runs the script on its own thread with a ``ScriptedConnection``.
public final class ScriptedServer: Sendable {
    public let port: Int
    /// The loopback address it listens on (`127.0.0.1` or `::1`).
    public let host: String
    public var connectString: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    private let listener: Socket
    private let shared: Shared
    private let wakeup: WakeupPipe

    private final class Shared: Sendable {
        let stopped = Atomic<Bool>(false)
        let accepted = Atomic<Int>(0)
        /// Open connections by index; a connection is closed (under this lock) when its script returns.
        let open = Mutex<[Int: Socket]>([:])
    }

    /// How many connections were accepted so far.
    public var acceptedConnections: Int { shared.accepted.load(ordering: .acquiring) }

    /// Starts listening on `host` (port 0) and runs `script(connection, index)` per connection (index from 1).
    public init(host: String = "127.0.0.1", script: @escaping @Sendable (ScriptedConnection, Int) -> Void) throws {
        self.host = host
        listener = try Socket.listen(host: host, port: 0)
        port = listener.localAddress?.port ?? 0
        wakeup = try WakeupPipe()
        let shared = Shared()
        self.shared = shared
        let thread = Thread { [listener, wakeup] in
            while !shared.stopped.load(ordering: .acquiring) {
                var fds = [pollfd(fd: listener.fd, events: Poller.readable, revents: 0),
                           pollfd(fd: wakeup.readFD, events: Poller.readable, revents: 0)]
                guard (try? Poller.poll(&fds, timeout: .seconds(1))) != nil else { break }
                if fds[1].revents != 0 { break }
                guard fds[0].revents != 0, let socket = try? listener.accept() else { continue }
                let index = shared.accepted.add(1, ordering: .acquiringAndReleasing).newValue
                shared.open.withLock { $0[index] = socket }
                let worker = Thread {
                    script(ScriptedConnection(socket: socket), index)
                    shared.open.withLock { connections in
                        if let socket = connections.removeValue(forKey: index) { socket.close() }
                    }
                }
                worker.start()
            }
            listener.close()
        }
        thread.start()
    }

    /// Stops accepting and shuts down every connection (scripts see EOF / errors and return).
    public func stop() {
        guard !shared.stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wakeup.wake()
        // Shut down (not close) under the lock: the scripts' threads close their own sockets.
        shared.open.withLock { connections in
            for socket in connections.values { socket.shutdown() }
        }
    }

    deinit { stop() }
}

/// One connection of a ``ScriptedServer``: blocking helpers with deadlines, for scripts.
public struct ScriptedConnection: Sendable {
    let socket: Socket

    /// Wraps a socket a test accepted itself (e.g. from a listener with a full backlog).
    package init(socket: Socket) { self.socket = socket }

    /// Reads one frame body (or nil on EOF / error / timeout).
    public func readFrame(timeout: Duration = .seconds(10)) -> [UInt8]? {
        var decoder = FrameDecoder(maximumLength: 16 << 20)
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + timeout
        while true {
            if let frame = try? decoder.next() { return frame }
            let left = deadline - .now
            guard left > .zero, (try? Poller.waitFor(fd: socket.fd, events: Poller.readable, timeout: left)) == true else {
                return nil
            }
            switch try? socket.read(into: &buffer) {
            case let .bytes(count)?: decoder.append(buffer[0..<count])
            case .wouldBlock?: continue
            default: return nil
            }
        }
    }

    /// Reads exactly `count` raw bytes, unframed (a four-letter word, or a frame's length prefix).
    /// Nil on EOF, error or timeout.
    public func readBytes(_ count: Int, timeout: Duration = .seconds(10)) -> [UInt8]? {
        var bytes: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while bytes.count < count {
            let left = deadline - .now
            guard left > .zero, (try? Poller.waitFor(fd: socket.fd, events: Poller.readable, timeout: left)) == true else {
                return nil
            }
            var chunk = [UInt8](repeating: 0, count: count - bytes.count)
            switch try? socket.read(into: &chunk) {
            case let .bytes(read)?: bytes += chunk[0..<read]
            case .wouldBlock?: continue
            default: return nil
            }
        }
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

    /// Ends the connection (the peer sees EOF); the socket is closed when the script returns.
    public func close() {
        socket.shutdown()
    }
}
