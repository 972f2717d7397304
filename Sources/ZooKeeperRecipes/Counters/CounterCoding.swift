/// Big-endian encodings of Curator's counters: `SharedCount` (4-byte int) and `DistributedAtomicLong`
/// (8-byte long), as Java's `ByteBuffer` writes them.
public enum CounterCoding {
    /// The 4 big-endian bytes of `value` (Curator's `SharedCount.toBytes`, kazoo's `struct '>i'`).
    public static func bytes(of value: Int32) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    /// The 8 big-endian bytes of `value` (Curator's `DistributedAtomicLong.valueToBytes`).
    public static func bytes(of value: Int64) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    /// Decodes a 4-byte int; empty data reads as 0 (Curator's `fromBytes`); any other length throws.
    public static func int32(from bytes: [UInt8]) throws(CounterError) -> Int32 {
        if bytes.isEmpty { return 0 }
        guard bytes.count == 4 else { throw .badData(length: bytes.count, expected: 4) }
        return bytes.reduce(Int32(0)) { ($0 << 8) | Int32($1) }
    }

    /// Decodes an 8-byte long; empty data reads as 0 (Curator's `bytesToValue`); any other length throws.
    public static func int64(from bytes: [UInt8]) throws(CounterError) -> Int64 {
        if bytes.isEmpty { return 0 }
        guard bytes.count == 8 else { throw .badData(length: bytes.count, expected: 8) }
        return bytes.reduce(Int64(0)) { ($0 << 8) | Int64($1) }
    }
}

/// A counter node holds data of the wrong size.
public enum CounterError: Error, Hashable, Sendable {
    case badData(length: Int, expected: Int)
}

/// A value and the node version it was read at (Curator's `VersionedValue`): the token for a
/// compare-and-set.
public struct VersionedValue<Value: Sendable & Hashable>: Sendable, Hashable {
    public var version: Int32
    public var value: Value
    public init(version: Int32, value: Value) {
        self.version = version
        self.value = value
    }
}
