/// Adler-32 (RFC 1950), the checksum Apache ZooKeeper puts on every transaction log entry and snapshot
/// (`java.util.zip.Adler32`). Incremental: feed bytes with ``update(_:)``, read ``value``.
package struct Adler32: Sendable, Equatable {
    private static let modulus: UInt32 = 65_521
    /// Most bytes summed before `b` can overflow 32 bits (zlib's NMAX).
    private static let blockLength = 5552

    private var a: UInt32 = 1
    private var b: UInt32 = 0

    package init() {}

    /// The checksum of everything fed so far (1 for no bytes).
    package var value: UInt32 { (b << 16) | a }

    package mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(buffer: $0) }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBufferPointer { update(buffer: $0) }
        }
    }

    package mutating func update(buffer: UnsafeBufferPointer<UInt8>) {
        var a = self.a
        var b = self.b
        var index = 0
        let count = buffer.count
        while index < count {
            let end = min(index + Self.blockLength, count)
            while index < end {
                a &+= UInt32(buffer[index])
                b &+= a
                index += 1
            }
            a %= Self.modulus
            b %= Self.modulus
        }
        self.a = a
        self.b = b
    }

    /// The checksum of `bytes`.
    package static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var adler = Adler32()
        adler.update(bytes)
        return adler.value
    }
}
