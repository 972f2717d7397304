/// A complete response: status, headers and body. The server adds `Content-Length`, `Connection` and
/// `Server`; a response to `HEAD` goes without its body.
///
/// Streamed bodies (chunked, server-sent events) are the other kind of answer:
/// ``HTTPResponder/stream(status:headers:)``; this type is the whole-body case.
public struct HTTPResponse: Sendable, Hashable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public init(status: Int = 200, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A `text/plain` (or `contentType`) UTF-8 response.
    public static func text(_ text: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, headers: [HTTPHeader("Content-Type", contentType)], body: Array(text.utf8))
    }

    /// An `application/json` response, pretty-printed as Jackson's default pretty printer does.
    public static func json(_ value: JSONValue, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: [HTTPHeader("Content-Type", "application/json")],
                     body: Array(value.prettyPrinted().utf8))
    }

    /// Fixed bytes (an embedded page, script or image) with their content type; `Cache-Control: no-cache`
    /// so that a browser revalidates instead of keeping an older build's copy.
    public static func asset(_ body: [UInt8], contentType: String) -> HTTPResponse {
        HTTPResponse(status: 200, headers: [HTTPHeader("Content-Type", contentType), HTTPHeader("Cache-Control", "no-cache"),
                                            HTTPHeader("X-Content-Type-Options", "nosniff")], body: body)
    }

    /// A plain-text error: the status line's reason and `message`.
    public static func error(_ status: Int, _ message: String) -> HTTPResponse {
        text("\(status) \(reasonPhrase(status)): \(message)\n", status: status)
    }

    /// The status line's reason phrase.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 204: return "No Content"
        case 301: return "Moved Permanently"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 505: return "HTTP Version Not Supported"
        default: return "Status \(status)"
        }
    }

    /// The bytes on the wire.
    /// - Parameters:
    ///   - keepAlive: false adds `Connection: close`.
    ///   - includeBody: false for `HEAD` (the `Content-Length` stays the body's).
    public func serialized(keepAlive: Bool, includeBody: Bool = true) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(Self.reasonPhrase(status))\r\n"
        for header in headers where !Self.managed.contains(header.name.lowercased()) {
            head += "\(header.name): \(header.value)\r\n"
        }
        head += "Content-Length: \(body.count)\r\n"
        if !keepAlive { head += "Connection: close\r\n" }
        head += "Server: Shepherd\r\n\r\n"
        var bytes = Array(head.utf8)
        if includeBody { bytes += body }
        return bytes
    }

    /// Headers the server sets itself.
    static let managed: Set<String> = ["content-length", "connection", "transfer-encoding", "server"]
}
