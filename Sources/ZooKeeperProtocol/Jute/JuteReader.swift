/// Reads jute's binary archive. Every read is bounds-checked and throws instead of trapping.
public struct JuteReader: Sendable {
    /// jute.maxbuffer's default (0xfffff bytes): the largest length prefix accepted unless told otherwise.
    public static let defaultMaxLength = 0xfffff

    private let bytes: [UInt8]
    /// Index of the next unread byte.
    public private(set) var offset: Int
    private let end: Int
    /// The largest buffer, string or vector length this reader accepts.
    public let maxLength: Int

    /// Reads from `bytes`, refusing any length prefix above `maxLength`.
    public init(_ bytes: [UInt8], maxLength: Int = JuteReader.defaultMaxLength) {
        self.bytes = bytes
        self.offset = 0
        self.end = bytes.count
        self.maxLength = maxLength
    }

    /// Reads `bytes` from index `start` on (a stream's buffer, without copying what is left of it).
    public init(_ bytes: [UInt8], from start: Int, maxLength: Int = JuteReader.defaultMaxLength) {
        self.bytes = bytes
        self.offset = min(max(start, 0), bytes.count)
        self.end = bytes.count
        self.maxLength = maxLength
    }

    /// Reads from a slice of a larger buffer.
    public init(_ slice: ArraySlice<UInt8>, maxLength: Int = JuteReader.defaultMaxLength) {
        self.init(Array(slice), maxLength: maxLength)
    }

    /// Bytes not yet read.
    public var remaining: Int { end - offset }

    /// Throws unless every byte has been consumed.
    public func expectEnd() throws(JuteDecodingError) {
        if remaining != 0 { throw .trailingBytes(remaining) }
    }

    private mutating func take(_ count: Int) throws(JuteDecodingError) -> Int {
        guard count <= remaining else { throw .truncated(needed: count, available: remaining) }
        let start = offset
        offset += count
        return start
    }

    public mutating func readInt32() throws(JuteDecodingError) -> Int32 {
        let at = try take(4)
        var value: UInt32 = 0
        for index in at..<(at + 4) { value = value << 8 | UInt32(bytes[index]) }
        return Int32(bitPattern: value)
    }

    public mutating func readInt64() throws(JuteDecodingError) -> Int64 {
        let at = try take(8)
        var value: UInt64 = 0
        for index in at..<(at + 8) { value = value << 8 | UInt64(bytes[index]) }
        return Int64(bitPattern: value)
    }

    /// Reads a jute `boolean`. Like Java's `readBoolean`, any non-zero byte is true.
    public mutating func readBool() throws(JuteDecodingError) -> Bool {
        let at = try take(1)
        return bytes[at] != 0
    }

    /// Reads a length prefix; -1 (null) gives `nil`.
    private mutating func readLength() throws(JuteDecodingError) -> Int? {
        let length = try readInt32()
        if length == -1 { return nil }
        if length < 0 { throw .negativeLength(length) }
        if Int(length) > maxLength { throw .lengthLimitExceeded(length: Int(length), limit: maxLength) }
        return Int(length)
    }

    /// Reads a jute `buffer`, keeping null apart from empty.
    public mutating func readOptionalBuffer() throws(JuteDecodingError) -> [UInt8]? {
        guard let length = try readLength() else { return nil }
        let at = try take(length)
        return Array(bytes[at..<(at + length)])
    }

    /// Reads a jute `buffer`; null reads as empty.
    public mutating func readBuffer() throws(JuteDecodingError) -> [UInt8] {
        try readOptionalBuffer() ?? []
    }

    /// Reads a jute `ustring`, keeping null apart from empty.
    public mutating func readOptionalString() throws(JuteDecodingError) -> String? {
        guard let length = try readLength() else { return nil }
        let at = try take(length)
        let raw = bytes[at..<(at + length)]
        if let string = String(validating: raw, as: UTF8.self) { return string }
        // Java's jute writer encodes characters outside the BMP as two 3-byte surrogates (CESU-8):
        // accept that form too, so a Java client's string is read as the character it meant.
        guard let string = Self.decodeCESU8(raw) else { throw .invalidUTF8 }
        return string
    }

    /// Reads a jute `ustring`; null reads as empty.
    public mutating func readString() throws(JuteDecodingError) -> String {
        try readOptionalString() ?? ""
    }

    /// Reads a jute `vector` of records, keeping null apart from empty.
    public mutating func readOptionalVector<T: JuteDecodable>(of type: T.Type = T.self) throws(JuteDecodingError) -> [T]? {
        guard let count = try readLength() else { return nil }
        // Every element takes at least one byte, so a count above what is left is hostile input.
        guard count <= remaining else { throw .truncated(needed: count, available: remaining) }
        var elements: [T] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try T(from: &self)) }
        return elements
    }

    /// Reads a jute `vector` of records; null reads as empty.
    public mutating func readVector<T: JuteDecodable>(of type: T.Type = T.self) throws(JuteDecodingError) -> [T] {
        try readOptionalVector(of: type) ?? []
    }

    /// Reads a jute `vector<ustring>`, keeping null apart from empty.
    public mutating func readOptionalStringVector() throws(JuteDecodingError) -> [String]? {
        guard let count = try readLength() else { return nil }
        // Each string needs at least its 4-byte length.
        guard count <= remaining / 4 else { throw .truncated(needed: count * 4, available: remaining) }
        var elements: [String] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try readString()) }
        return elements
    }

    /// Reads a jute `vector<ustring>`; null reads as empty.
    public mutating func readStringVector() throws(JuteDecodingError) -> [String] {
        try readOptionalStringVector() ?? []
    }

    /// Reads a nested record.
    public mutating func read<T: JuteDecodable>(_ type: T.Type = T.self) throws(JuteDecodingError) -> T {
        try T(from: &self)
    }

    /// Reads `count` raw bytes with no length prefix.
    public mutating func readRaw(count: Int) throws(JuteDecodingError) -> [UInt8] {
        guard count >= 0 else { throw .negativeLength(Int32(clamping: count)) }
        let at = try take(count)
        return Array(bytes[at..<(at + count)])
    }

    /// Reads every byte that is left.
    public mutating func readRemaining() -> [UInt8] {
        let rest = Array(bytes[offset..<end])
        offset = end
        return rest
    }

    /// Decodes UTF-8 in which supplementary characters may be written as surrogate pairs (CESU-8).
    /// Returns nil for anything else that is not UTF-8 (including unpaired surrogates).
    static func decodeCESU8(_ bytes: ArraySlice<UInt8>) -> String? {
        var scalars = String.UnicodeScalarView()
        var index = bytes.startIndex
        func continuation(_ offset: Int) -> UInt32? {
            let position = index + offset
            guard position < bytes.endIndex, bytes[position] & 0xC0 == 0x80 else { return nil }
            return UInt32(bytes[position] & 0x3F)
        }
        func threeByte() -> UInt32? {
            guard bytes[index] & 0xF0 == 0xE0, let b1 = continuation(1), let b2 = continuation(2) else { return nil }
            return UInt32(bytes[index] & 0x0F) << 12 | b1 << 6 | b2
        }
        while index < bytes.endIndex {
            let lead = bytes[index]
            var value: UInt32
            if lead < 0x80 {
                value = UInt32(lead)
                index += 1
            } else if lead & 0xE0 == 0xC0, let b1 = continuation(1) {
                value = UInt32(lead & 0x1F) << 6 | b1
                guard value >= 0x80 else { return nil }
                index += 2
            } else if let high = threeByte() {
                index += 3
                value = high
                if (0xD800...0xDBFF).contains(high) {
                    guard index < bytes.endIndex, let low = threeByte(), (0xDC00...0xDFFF).contains(low) else { return nil }
                    index += 3
                    value = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(high) || high < 0x800 {
                    return nil
                }
            } else if lead & 0xF8 == 0xF0, let b1 = continuation(1), let b2 = continuation(2), let b3 = continuation(3) {
                value = UInt32(lead & 0x07) << 18 | b1 << 12 | b2 << 6 | b3
                guard value >= 0x10000 else { return nil }
                index += 4
            } else {
                return nil
            }
            guard let scalar = Unicode.Scalar(value) else { return nil }
            scalars.append(scalar)
        }
        return String(scalars)
    }
}
