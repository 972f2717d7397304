import Synchronization
import ZooKeeperPOSIX

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small HTTP/1.1 server: one thread polling the listener and its connections, keep-alive and
/// pipelining (one request at a time per connection), bounded requests, timeouts for slow or idle
/// clients, clear 4xx/5xx answers to bad input. Handlers run on that thread and answer through an
/// ``HTTPResponder`` whenever they like, so a slow answer never blocks other connections; an answer may
/// also be streamed (chunked, e.g. server-sent events) for as long as the client stays.
///
/// ```swift
/// let server = try HTTPServer(configuration: .init(port: 8080)) { request in
///     .text("hello \(request.path)")
/// }
/// server.start()
/// …
/// await server.stop()
/// ```
public final class HTTPServer: Sendable {
    /// Called on the server thread for each request; must not block: answer through the responder.
    public typealias Handler = @Sendable (HTTPRequest, HTTPResponder) -> Void

    public let configuration: HTTPServerConfiguration
    /// The bound port (resolved when configured with port 0).
    public let port: Int
    private let listener: Socket
    private let handler: Handler
    private let wakeup: WakeupPipe
    private let thread = ServiceThread()
    /// Whether ``start()`` ran; a server stopped without starting closes its listener itself.
    private let started = Mutex(false)
    private let mailbox = Mutex<(answers: [(connection: UInt64, outbound: HTTPOutbound)], stop: Bool)>(([], false))

    /// Binds the listening socket (so the port is known) without serving yet; call ``start()``.
    /// - Throws: `SocketError` when the address cannot be bound.
    public init(configuration: HTTPServerConfiguration, handler: @escaping Handler) throws {
        self.configuration = configuration
        self.handler = handler
        self.wakeup = try WakeupPipe()
        self.listener = try Socket.listen(host: configuration.host, port: configuration.port)
        self.port = listener.localAddress?.port ?? configuration.port
    }

    /// The same with a handler that returns its answer asynchronously (each request runs in its own task).
    public convenience init(configuration: HTTPServerConfiguration,
                            respond: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) throws {
        try self.init(configuration: configuration) { (request: HTTPRequest, responder: HTTPResponder) in
            Task {
                let response = await respond(request)
                responder.send(response)
            }
        }
    }

    /// Starts the server thread.
    public func start() {
        let first = started.withLock { started -> Bool in
            defer { started = true }
            return !started
        }
        guard first else { return }
        thread.start(name: "\(configuration.name)-http") { [self] in run() }
    }

    /// Stops serving: open connections and the listener close; returns once the thread has exited.
    public func stop() async {
        let neverStarted = started.withLock { started -> Bool in
            defer { started = true }
            return !started
        }
        if neverStarted {
            listener.close()
            return
        }
        mailbox.withLock { $0.stop = true }
        wakeup.wake()
        await thread.waitUntilFinished()
    }

    private func post(_ connection: UInt64, _ outbound: HTTPOutbound) {
        let accepted = mailbox.withLock { box -> Bool in
            guard !box.stop else { return false }
            box.answers.append((connection, outbound))
            return true
        }
        if accepted {
            wakeup.wake()
        } else if case let .streamHead(_, stream) = outbound {
            stream.markClosed()  // the server stopped: nobody will ever read this stream
        }
    }

    private func responder(for request: HTTPRequest, connection: UInt64) -> HTTPResponder {
        HTTPResponder(connection: connection, keepAlive: request.keepAlive, includeBody: request.method != "HEAD",
                      chunked: request.minorVersion >= 1) { [weak self] (id: UInt64, outbound: HTTPOutbound) in
            guard let self else {
                if case let .streamHead(_, stream) = outbound { stream.markClosed() }
                return
            }
            self.post(id, outbound)
        }
    }

    /// Applies one handler message to its connection (if it is still there and in the right phase).
    private func deliver(_ outbound: HTTPOutbound, to connection: HTTPConnection?, now: ContinuousClock.Instant) {
        switch outbound {
        case let .response(bytes, close):
            guard let connection, connection.phase == .handling else { return }
            connection.queue(bytes, close: close, deadline: now + configuration.writeTimeout)
        case let .streamHead(bytes, stream):
            guard let connection, connection.phase == .handling else {
                stream.markClosed()
                return
            }
            connection.queue(bytes, close: false, deadline: now + configuration.writeTimeout)
            connection.phase = .streaming
            connection.stream = stream
            connection.inputDuringStream = false
        case let .chunk(bytes, stream):
            guard let connection, connection.stream === stream, connection.phase == .streaming else { return }
            if !connection.hasPendingOutput { connection.deadline = now + configuration.writeTimeout }
            connection.append(bytes)
        case let .streamEnd(bytes, stream, close):
            guard let connection, connection.stream === stream, connection.phase == .streaming else { return }
            connection.append(bytes)
            connection.stream = nil
            connection.phase = .sending
            connection.closeAfterSend = close || connection.inputDuringStream
            connection.deadline = now + configuration.writeTimeout
        }
    }

    private func run() {
        var connections: [UInt64: HTTPConnection] = [:]
        var nextID: UInt64 = 1
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        /// After a failed accept (out of file descriptors) the listener rests instead of spinning.
        var acceptResumesAt: ContinuousClock.Instant?
        while true {
            let (answers, stopping) = mailbox.withLock { box -> ([(connection: UInt64, outbound: HTTPOutbound)], Bool) in
                defer { box.answers = [] }
                return (box.answers, box.stop)
            }
            if stopping {
                for answer in answers { if case let .streamHead(_, stream) = answer.outbound { stream.markClosed() } }
                break
            }
            let now = ContinuousClock.now
            for answer in answers {
                deliver(answer.outbound, to: connections[answer.connection], now: now)
            }
            for connection in Array(connections.values) {
                if !advance(connection, now: now) {
                    close(connection, in: &connections)
                }
            }
            let resting = acceptResumesAt.map { now < $0 } ?? false
            var fds = [pollfd(fd: wakeup.readFD, events: Poller.readable, revents: 0),
                       pollfd(fd: listener.fd, events: resting ? 0 : Poller.readable, revents: 0)]
            let order = Array(connections.values)
            for connection in order {
                let interest: Int16 = switch connection.phase {
                case .reading: Poller.readable
                case .handling: 0
                case .sending: Poller.writable
                case .streaming: Poller.readable | (connection.hasPendingOutput ? Poller.writable : 0)
                case .draining: Poller.readable
                }
                fds.append(pollfd(fd: connection.socket.fd, events: interest, revents: 0))
            }
            let nearest = (order.map(\.deadline) + (resting ? [acceptResumesAt!] : [])).min()
            let wait = nearest.map { max(.zero, ContinuousClock.now.duration(to: $0)) }
            guard (try? Poller.poll(&fds, timeout: wait)) != nil else { continue }
            if fds[0].revents != 0 { wakeup.drain() }
            if fds[1].revents & Poller.readable != 0 {
                let failed = !accept(into: &connections, nextID: &nextID)
                acceptResumesAt = failed ? .now + .milliseconds(100) : nil
            }
            for (index, connection) in order.enumerated() where fds[index + 2].revents != 0 {
                switch connection.phase {
                case .reading:
                    if !read(connection, buffer: &buffer) { close(connection, in: &connections) }
                case .draining:
                    if !discard(connection, buffer: &buffer) { close(connection, in: &connections) }
                case .streaming:
                    // Input during a stream is dropped (an EventSource sends none); its end is the client leaving.
                    if !discard(connection, buffer: &buffer, noting: true) {
                        close(connection, in: &connections)
                    } else if !advance(connection, now: .now) {
                        close(connection, in: &connections)
                    }
                case .handling, .sending:
                    continue
                }
            }
        }
        for connection in Array(connections.values) { close(connection, in: &connections) }
        listener.close()
    }

    private func close(_ connection: HTTPConnection, in connections: inout [UInt64: HTTPConnection]) {
        connections[connection.id] = nil
        connection.socket.close()
        connection.stream?.markClosed()
        connection.stream = nil
    }

    /// Accepts every pending connection; false when accepting failed (not merely nothing pending).
    private func accept(into connections: inout [UInt64: HTTPConnection], nextID: inout UInt64) -> Bool {
        while true {
            let next: Socket?
            do { next = try listener.accept() } catch { return false }
            guard let accepted = next else { return true }
            let connection = HTTPConnection(id: nextID, socket: accepted, limits: configuration.limits,
                                            deadline: .now + configuration.idleTimeout)
            nextID += 1
            if connections.count >= configuration.maxConnections {
                // Best effort: the socket is fresh, its buffer takes this small answer at once.
                let answer = HTTPResponse.error(503, "too many connections").serialized(keepAlive: false)
                _ = try? accepted.write(answer, from: 0)
                accepted.shutdownWrite()
                accepted.close()
                continue
            }
            connections[connection.id] = connection
        }
    }

    /// Reads what is there and feeds the parser; false when the connection must close now.
    private func read(_ connection: HTTPConnection, buffer: inout [UInt8]) -> Bool {
        let result: Socket.ReadResult
        do { result = try connection.socket.read(into: &buffer) } catch { return false }
        switch result {
        case .wouldBlock: return true
        case .endOfFile: return false
        case let .bytes(count):
            let wasPartial = connection.parser.hasPartialRequest
            connection.parser.append(buffer[0..<count])
            if !wasPartial && connection.parser.hasPartialRequest {
                connection.deadline = .now + configuration.requestTimeout
            }
            return advance(connection, now: .now)
        }
    }

    /// How long a closing connection's unread input is discarded before the socket closes.
    static let drainTime: Duration = .seconds(2)

    /// Reads and drops input of a closing connection; false at its end.
    private func discard(_ connection: HTTPConnection, buffer: inout [UInt8], noting: Bool = false) -> Bool {
        for _ in 0..<16 {
            guard let result = try? connection.socket.read(into: &buffer) else { return false }
            switch result {
            case .wouldBlock: return true
            case .endOfFile: return false
            case .bytes:
                if noting { connection.inputDuringStream = true }
                continue
            }
        }
        return true
    }

    /// Moves a connection along: writes pending output, hands the next buffered request to the handler,
    /// answers parse errors and timeouts. False when the connection must close now.
    private func advance(_ connection: HTTPConnection, now: ContinuousClock.Instant) -> Bool {
        switch connection.phase {
        case .sending:
            guard connection.flush() else { return false }
            if connection.hasPendingOutput {
                return now < connection.deadline
            }
            if connection.closeAfterSend {
                connection.socket.shutdownWrite()
                connection.phase = .draining
                connection.deadline = now + Self.drainTime
                return true
            }
            connection.phase = .reading
            connection.deadline = now + (connection.parser.hasPartialRequest ? configuration.requestTimeout : configuration.idleTimeout)
            return advance(connection, now: now)
        case .streaming:
            let before = connection.outboundOffset
            guard connection.flush() else { return false }
            if connection.outboundOffset > before { connection.deadline = now + configuration.writeTimeout }
            if connection.hasPendingOutput {
                // A client too slow for the stream is let go rather than buffered for without bound.
                return now < connection.deadline && connection.pendingOutputCount <= configuration.maxStreamBuffer
            }
            connection.deadline = now + .seconds(3600)  // an idle stream has no timeout; this only bounds the poll
            return true
        case .draining:
            return now < connection.deadline
        case .handling:
            if now >= connection.deadline {
                let answer = HTTPResponse.error(503, "the handler did not answer in time").serialized(keepAlive: false)
                connection.queue(answer, close: true, deadline: now + configuration.writeTimeout)
                return advance(connection, now: now)
            }
            return true
        case .reading:
            switch connection.parser.next() {
            case let .request(request):
                connection.phase = .handling
                connection.deadline = now + configuration.handlerTimeout
                handler(request, responder(for: request, connection: connection.id))
                return true
            case let .failure(error):
                let answer = HTTPResponse.error(error.status, error.description).serialized(keepAlive: false)
                connection.queue(answer, close: true, deadline: now + configuration.writeTimeout)
                return advance(connection, now: now)
            case .needMore:
                guard now >= connection.deadline else { return true }
                guard connection.parser.hasPartialRequest else { return false }  // idle keep-alive: close quietly
                let answer = HTTPResponse.error(408, "the request did not arrive in time").serialized(keepAlive: false)
                connection.queue(answer, close: true, deadline: now + configuration.writeTimeout)
                return advance(connection, now: now)
            }
        }
    }
}
