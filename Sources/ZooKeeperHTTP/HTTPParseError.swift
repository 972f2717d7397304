/// Why a request was refused before reaching a handler; each maps to the 4xx/5xx status answered.
public enum HTTPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Bad syntax in the request line or a header (400).
    case malformed(String)
    /// The request line is longer than allowed (414).
    case requestLineTooLong
    /// The header section is larger, or has more fields, than allowed (431).
    case headersTooLarge
    /// The declared body is larger than allowed (413).
    case bodyTooLarge
    /// A `Transfer-Encoding` this server does not accept on requests (501).
    case unsupportedTransferEncoding
    /// Not HTTP/1.0 or HTTP/1.1 (505).
    case unsupportedVersion
    /// The path climbs above the root (`/../etc/passwd`) or hides a separator (`%2F`, NUL) (400).
    case forbiddenPath

    /// The status code answered.
    public var status: Int {
        switch self {
        case .malformed, .forbiddenPath: return 400
        case .requestLineTooLong: return 414
        case .headersTooLarge: return 431
        case .bodyTooLarge: return 413
        case .unsupportedTransferEncoding: return 501
        case .unsupportedVersion: return 505
        }
    }

    public var description: String {
        switch self {
        case let .malformed(reason): return "malformed request: \(reason)"
        case .requestLineTooLong: return "request line too long"
        case .headersTooLarge: return "request header fields too large"
        case .bodyTooLarge: return "request body too large"
        case .unsupportedTransferEncoding: return "Transfer-Encoding is not supported on requests; send Content-Length"
        case .unsupportedVersion: return "only HTTP/1.0 and HTTP/1.1 are supported"
        case .forbiddenPath: return "the path leaves the root or hides a separator"
        }
    }
}
