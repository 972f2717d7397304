/// Writes jute's binary archive: big-endian integers, length-prefixed buffers, strings and vectors.
public struct JuteWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// Creates an empty writer, reserving `capacity` bytes.
    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ value: Int32) {
        let bits = UInt32(bitPattern: value)
        bytes.append(UInt8(truncatingIfNeeded: bits >> 24))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 16))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
        bytes.append(UInt8(truncatingIfNeeded: bits))
    }

    public mutating func write(_ value: Int64) {
        let bits = UInt64(bitPattern: value)
        var shift: UInt64 = 56
        while true {
            bytes.append(UInt8(truncatingIfNeeded: bits >> shift))
            if shift == 0 { break }
            shift -= 8
        }
    }

    public mutating func write(_ value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    /// Writes a jute `buffer`; `nil` is written as length -1.
    public mutating func writeBuffer(_ value: [UInt8]?) {
        guard let value else { return write(Int32(-1)) }
        write(Int32(truncatingIfNeeded: value.count))
        bytes.append(contentsOf: value)
    }

    /// Writes a jute `ustring` as UTF-8; `nil` is written as length -1.
    public mutating func writeString(_ value: String?) {
        guard let value else { return write(Int32(-1)) }
        let utf8 = value.utf8
        write(Int32(truncatingIfNeeded: utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// Writes a jute `vector` of records; `nil` is written as count -1.
    public mutating func writeVector<T: JuteEncodable>(_ value: [T]?) {
        guard let value else { return write(Int32(-1)) }
        write(Int32(truncatingIfNeeded: value.count))
        for element in value { element.encode(to: &self) }
    }

    /// Writes a jute `vector<ustring>`; `nil` is written as count -1.
    public mutating func writeStringVector(_ value: [String]?) {
        guard let value else { return write(Int32(-1)) }
        write(Int32(truncatingIfNeeded: value.count))
        for element in value { writeString(element) }
    }

    /// Writes a nested record.
    public mutating func write<T: JuteEncodable>(_ record: T) {
        record.encode(to: &self)
    }

    /// Appends raw bytes with no length prefix.
    public mutating func writeRaw<C: Collection>(_ raw: C) where C.Element == UInt8 {
        bytes.append(contentsOf: raw)
    }
}
