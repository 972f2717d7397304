/// Turns the bytes of one connection into HTTP/1.x requests. Pure: no I/O, no clock; the driver feeds
/// what it reads and asks for the next request. A failure is final: answer its status and close.
///
/// Accepts CRLF or bare LF line ends and empty lines before a request line (RFC 9112 §2.2); bodies only
/// with `Content-Length` (a chunked request body is refused with 501). Bounded: the request line, the
/// header section, the number of fields and the body each have a limit (``Limits``).
public struct HTTPRequestParser: Sendable {
    /// Size bounds; a request over any of them fails with the matching status.
    public struct Limits: Sendable, Hashable {
        /// Longest request line (414 beyond).
        public var maxRequestLineBytes: Int
        /// Largest header section, request line included (431 beyond).
        public var maxHeaderBytes: Int
        /// Most header fields (431 beyond).
        public var maxHeaderCount: Int
        /// Largest body (413 beyond).
        public var maxBodyBytes: Int

        public init(maxRequestLineBytes: Int = 8192, maxHeaderBytes: Int = 16_384, maxHeaderCount: Int = 100,
                    maxBodyBytes: Int = 1 << 20) {
            self.maxRequestLineBytes = maxRequestLineBytes
            self.maxHeaderBytes = maxHeaderBytes
            self.maxHeaderCount = maxHeaderCount
            self.maxBodyBytes = maxBodyBytes
        }
    }

    /// What ``next()`` found.
    public enum Outcome: Sendable, Hashable {
        case request(HTTPRequest)
        /// No complete request yet: feed more bytes.
        case needMore
        case failure(HTTPParseError)
    }

    public let limits: Limits
    private var buffer: [UInt8] = []
    private var failure: HTTPParseError?

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Whether bytes of an unfinished request are buffered (a driver times such a client out with 408).
    public var hasPartialRequest: Bool { buffer.contains { $0 != 0x0D && $0 != 0x0A } }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        guard failure == nil else { return }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete request, consuming its bytes; later bytes stay for the next call (pipelining).
    public mutating func next() -> Outcome {
        if let failure { return .failure(failure) }
        let outcome = parse()
        if case let .failure(error) = outcome {
            failure = error
            buffer = []
        }
        return outcome
    }

    private mutating func parse() -> Outcome {
        // Empty lines before a request line are ignored.
        let start = buffer.firstIndex { $0 != 0x0D && $0 != 0x0A } ?? buffer.count
        if start > 0 { buffer.removeFirst(start) }
        guard !buffer.isEmpty else { return .needMore }
        guard let headEnd = Self.endOfHead(buffer, limit: limits.maxHeaderBytes + 4) else {
            if let lineEnd = buffer.firstIndex(of: 0x0A), lineEnd > limits.maxRequestLineBytes { return .failure(.requestLineTooLong) }
            if buffer.firstIndex(of: 0x0A) == nil, buffer.count > limits.maxRequestLineBytes { return .failure(.requestLineTooLong) }
            return buffer.count > limits.maxHeaderBytes ? .failure(.headersTooLarge) : .needMore
        }
        let head: Head
        do { head = try parseHead(buffer[..<headEnd.start]) } catch { return .failure(error) }
        let total = headEnd.end + head.contentLength
        guard buffer.count >= total else { return .needMore }
        let body = Array(buffer[headEnd.end..<total])
        buffer.removeFirst(total)
        return .request(HTTPRequest(method: head.method, target: head.target, minorVersion: head.minorVersion,
                                    headers: head.headers, body: body, pathSegments: head.segments))
    }

    private struct Head {
        var method: String
        var target: String
        var minorVersion: Int
        var headers: [HTTPHeader]
        var segments: [String]
        var contentLength: Int
    }

    /// Where the head ends (the empty line) and the body starts; nil if not within `limit` bytes.
    private static func endOfHead(_ bytes: [UInt8], limit: Int) -> (start: Int, end: Int)? {
        var index = 0
        let end = min(bytes.count, limit)
        while index < end {
            if bytes[index] == 0x0A {
                if index + 1 < bytes.count, bytes[index + 1] == 0x0A { return (index, index + 2) }
                if index + 2 < bytes.count, bytes[index + 1] == 0x0D, bytes[index + 2] == 0x0A { return (index, index + 3) }
            }
            index += 1
        }
        return nil
    }

    private func parseHead(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> Head {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> ArraySlice<UInt8> in
            line.last == 0x0D ? line.dropLast() : line
        }
        let requestLine = lines.removeFirst()
        guard requestLine.count <= limits.maxRequestLineBytes else { throw .requestLineTooLong }
        guard lines.count <= limits.maxHeaderCount else { throw .headersTooLarge }
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, let method = Self.token(parts[0]) else { throw .malformed("expected METHOD target HTTP/1.x") }
        guard !parts[1].isEmpty, parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .malformed("bad request target") }
        let target = String(decoding: parts[1], as: UTF8.self)
        let minorVersion = try Self.version(parts[2])
        var headers: [HTTPHeader] = []
        for line in lines {
            guard let first = line.first else { throw .malformed("empty header line") }
            if first == 0x20 || first == 0x09 { throw .malformed("obsolete line folding") }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), let name = Self.token(line[..<colon]) else {
                throw .malformed("bad header field")
            }
            let value = line[(colon + 1)...].drop { $0 == 0x20 || $0 == 0x09 }
            guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else { throw .malformed("control character in \(name)") }
            var text = String(decoding: value, as: UTF8.self)
            while text.last == " " || text.last == "\t" { text.removeLast() }
            headers.append(HTTPHeader(name, text))
        }
        let contentLength = try Self.contentLength(headers, limit: limits.maxBodyBytes)
        if minorVersion == 1, !headers.contains(where: { $0.name.lowercased() == "host" }) {
            throw .malformed("HTTP/1.1 requires a Host header")
        }
        let segments = try HTTPPath.segments(of: target)
        return Head(method: method, target: target, minorVersion: minorVersion, headers: headers, segments: segments,
                    contentLength: contentLength)
    }

    private static func contentLength(_ headers: [HTTPHeader], limit: Int) throws(HTTPParseError) -> Int {
        if headers.contains(where: { $0.name.lowercased() == "transfer-encoding" }) {
            if headers.contains(where: { $0.name.lowercased() == "content-length" }) {
                throw .malformed("both Transfer-Encoding and Content-Length")
            }
            throw .unsupportedTransferEncoding
        }
        let values = headers.filter { $0.name.lowercased() == "content-length" }
            .flatMap { $0.value.split(separator: ",", omittingEmptySubsequences: false) }
            .map { $0.trimmingCharacters(in: " \t") }
        guard let first = values.first else { return 0 }
        guard values.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.count <= 18,
              first.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let length = Int(first)
        else { throw .malformed("bad Content-Length") }
        guard length <= limit else { throw .bodyTooLarge }
        return length
    }

    /// An RFC 9110 token (method, field name), or nil.
    private static func token(_ bytes: ArraySlice<UInt8>) -> String? {
        let special = Array("!#$%&'*+-.^_`|~".utf8)
        guard !bytes.isEmpty, bytes.allSatisfy({ byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || special.contains(byte)
        }) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The minor version of `HTTP/1.x`; other well-formed versions are 505, anything else 400.
    private static func version(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        let text = String(decoding: bytes, as: UTF8.self)
        if text == "HTTP/1.1" { return 1 }
        if text == "HTTP/1.0" { return 0 }
        let digits = text.utf8.dropFirst(5)
        if text.hasPrefix("HTTP/"), digits.count == 3, digits.dropFirst().first == UInt8(ascii: "."),
           digits.enumerated().allSatisfy({ $0.offset == 1 || ($0.element >= 0x30 && $0.element <= 0x39) }) {
            throw .unsupportedVersion
        }
        throw .malformed("bad HTTP version")
    }
}
