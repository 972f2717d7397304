import Synchronization

/// The body of a streamed response (see ``HTTPResponder/stream(status:headers:)``): write to it from any
/// thread until ``finish()`` or until the client goes away. Writes after that are dropped and return false.
///
/// The server buffers what the client has not read yet, up to ``HTTPServerConfiguration/maxStreamBuffer``;
/// a client that falls further behind (or leaves output unread past the write timeout) is disconnected.
public final class HTTPStream: Sendable {
    let connection: UInt64
    private let chunked: Bool
    let keepAlive: Bool
    private let post: @Sendable (UInt64, HTTPOutbound) -> Void
    private let state = Mutex<(closed: Bool, handlers: [@Sendable () -> Void])>((false, []))

    init(connection: UInt64, chunked: Bool, keepAlive: Bool, post: @escaping @Sendable (UInt64, HTTPOutbound) -> Void) {
        self.connection = connection
        self.chunked = chunked
        self.keepAlive = keepAlive
        self.post = post
    }

    /// Whether writes still go out (not finished, client still connected).
    public var isOpen: Bool { state.withLock { !$0.closed } }

    /// Writes `bytes` as the next piece of the body; false once the stream is closed.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        guard isOpen else { return false }
        guard !bytes.isEmpty else { return true }  // an empty chunk would end a chunked body
        post(connection, .chunk(chunked ? Self.frame(bytes) : bytes, self))
        return true
    }

    /// Writes one server-sent event.
    @discardableResult
    public func write(_ event: ServerSentEvent) -> Bool { write(Array(event.serialized.utf8)) }

    /// Ends the body; the connection then serves its next request (or closes, for HTTP/1.0).
    public func finish() { finish(sendingTerminator: true) }

    func finish(sendingTerminator: Bool) {
        guard markClosed() else { return }
        let terminator: [UInt8] = chunked && sendingTerminator ? Array("0\r\n\r\n".utf8) : []
        post(connection, .streamEnd(terminator, self, close: !keepAlive))
    }

    /// Runs `handler` once when the stream closes — finished, client gone, or server stopped — or at once
    /// if it is closed already. Handlers may run on the server thread: keep them short, never blocking.
    public func onClose(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if state.closed { return true }
            state.handlers.append(handler)
            return false
        }
        if runNow { handler() }
    }

    /// Marks the stream closed and runs the close handlers; false if it was closed already.
    @discardableResult
    func markClosed() -> Bool {
        let handlers = state.withLock { state -> [@Sendable () -> Void]? in
            guard !state.closed else { return nil }
            state.closed = true
            defer { state.handlers = [] }
            return state.handlers
        }
        guard let handlers else { return false }
        for handler in handlers { handler() }
        return true
    }

    /// One chunk of a chunked body: size in hex, CRLF, the bytes, CRLF.
    static func frame(_ bytes: [UInt8]) -> [UInt8] {
        Array((String(bytes.count, radix: 16) + "\r\n").utf8) + bytes + [0x0D, 0x0A]
    }
}
