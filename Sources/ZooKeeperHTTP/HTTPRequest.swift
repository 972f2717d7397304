/// One header field as received or sent: the name keeps its spelling, lookups ignore case.
public struct HTTPHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    /// A field `name: value`.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A complete HTTP/1.x request, as ``HTTPRequestParser`` produces it.
public struct HTTPRequest: Sendable, Hashable {
    /// The method token, case preserved (`GET`, `HEAD`, …).
    public var method: String
    /// The request target as sent (`/commands/stat?x=1`).
    public var target: String
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    public var headers: [HTTPHeader]
    public var body: [UInt8]
    /// The path's segments, percent-decoded, dot segments resolved (`/a/./b/` → `["a", "b", ""]`).
    public var pathSegments: [String]
    /// The query's `key=value` pairs, percent-decoded (`+` is a space), in order.
    public var query: [(name: String, value: String)] { HTTPPath.queryItems(of: target) }

    /// A request as the parser builds it (tests build them too); `pathSegments` from ``HTTPPath/segments(of:)``.
    public init(method: String, target: String, minorVersion: Int = 1, headers: [HTTPHeader] = [], body: [UInt8] = [],
                pathSegments: [String]) {
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
        self.headers = headers
        self.body = body
        self.pathSegments = pathSegments
    }

    /// The first value of the header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The normalised path: `/` followed by the segments.
    public var path: String { "/" + pathSegments.joined(separator: "/") }

    /// Whether the connection stays open after the response: HTTP/1.1 unless `Connection: close`,
    /// HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool {
        let tokens = (header("Connection") ?? "").lowercased().split(separator: ",").map { $0.trimmingCharacters(in: " \t") }
        if tokens.contains("close") { return false }
        return minorVersion >= 1 || tokens.contains("keep-alive")
    }

    public static func == (lhs: HTTPRequest, rhs: HTTPRequest) -> Bool {
        lhs.method == rhs.method && lhs.target == rhs.target && lhs.minorVersion == rhs.minorVersion
            && lhs.headers == rhs.headers && lhs.body == rhs.body
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(method)
        hasher.combine(target)
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var slice = self
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
