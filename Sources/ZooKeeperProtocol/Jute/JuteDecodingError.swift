/// Why a jute record could not be decoded.
///
/// Decoding never traps: truncated, hostile or garbage input always surfaces as one of these.
public enum JuteDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input ended `needed` bytes in, but only `available` were left.
    case truncated(needed: Int, available: Int)
    /// A length prefix was negative (other than the -1 that means null, where null is allowed).
    case negativeLength(Int32)
    /// A length prefix asked for more than the reader's limit allows.
    case lengthLimitExceeded(length: Int, limit: Int)
    /// A `ustring` did not hold valid UTF-8.
    case invalidUTF8
    /// A value that must come from a closed set (e.g. a multi op type) was not one of them.
    case invalidValue(field: String, value: Int64)
    /// Bytes were left over after a record that must fill its frame.
    case trailingBytes(Int)

    public var description: String {
        switch self {
        case let .truncated(needed, available):
            return "truncated jute input: needed \(needed) more bytes, \(available) available"
        case let .negativeLength(length):
            return "invalid negative jute length \(length)"
        case let .lengthLimitExceeded(length, limit):
            return "jute length \(length) exceeds the limit of \(limit) bytes"
        case .invalidUTF8:
            return "jute ustring is not valid UTF-8"
        case let .invalidValue(field, value):
            return "invalid value \(value) for \(field)"
        case let .trailingBytes(count):
            return "\(count) unexpected trailing bytes after the record"
        }
    }
}
