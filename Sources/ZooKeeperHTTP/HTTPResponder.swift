/// How a handler answers one request, from any thread, at any later time: call ``send(_:)`` once, or
/// ``stream(status:headers:)`` once for a body written piece by piece.
/// Answers after the connection closed (or a second answer) are dropped.
public struct HTTPResponder: Sendable {
    let connection: UInt64
    let keepAlive: Bool
    let includeBody: Bool
    /// Whether the request's HTTP version allows a chunked body (HTTP/1.1).
    let chunked: Bool
    let post: @Sendable (UInt64, HTTPOutbound) -> Void

    /// Sends `response`; the connection then reads its next request, or closes if the request asked to.
    public func send(_ response: HTTPResponse) {
        post(connection, .response(response.serialized(keepAlive: keepAlive, includeBody: includeBody), close: !keepAlive))
    }

    /// Starts a streamed response: the head goes out now, the body as the returned stream is written to
    /// (chunked for HTTP/1.1; for HTTP/1.0 unframed, ending with the connection). The stream stays open
    /// until ``HTTPStream/finish()`` or until the client disconnects (see ``HTTPStream/onClose(_:)``);
    /// no handler timeout applies to it. A `HEAD` request gets the head and an already finished stream.
    public func stream(status: Int = 200, headers: [HTTPHeader]) -> HTTPStream {
        let keepAlive = keepAlive && chunked
        let stream = HTTPStream(connection: connection, chunked: chunked, keepAlive: keepAlive, post: post)
        var head = "HTTP/1.1 \(status) \(HTTPResponse.reasonPhrase(status))\r\n"
        for header in headers where !HTTPResponse.managed.contains(header.name.lowercased()) {
            head += "\(header.name): \(header.value)\r\n"
        }
        if chunked { head += "Transfer-Encoding: chunked\r\n" }
        if !keepAlive { head += "Connection: close\r\n" }
        head += "Server: Shepherd\r\n\r\n"
        post(connection, .streamHead(Array(head.utf8), stream))
        if !includeBody { stream.finish(sendingTerminator: false) }
        return stream
    }

    /// Starts a `text/event-stream` (server-sent events) response; write ``ServerSentEvent``s to it.
    /// It is not cached, and proxies are asked not to buffer it.
    public func eventStream(headers: [HTTPHeader] = []) -> HTTPStream {
        stream(headers: [HTTPHeader("Content-Type", "text/event-stream; charset=utf-8"),
                         HTTPHeader("Cache-Control", "no-cache"),
                         HTTPHeader("X-Accel-Buffering", "no")] + headers)
    }
}
