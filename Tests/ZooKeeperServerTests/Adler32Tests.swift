import Testing
@testable import ZooKeeperServer

@Suite struct Adler32Tests {
    @Test func knownVectors() {
        #expect(Adler32.checksum(Array("Wikipedia".utf8)) == 0x11E6_0398)
        #expect(Adler32.checksum([UInt8]()) == 1)
        #expect(Adler32.checksum(Array("abc".utf8)) == 0x024D_0127)
        #expect(Adler32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x5BDC_0FDA)
    }

    /// Long runs of 0xff stress the deferred modulo (zlib's NMAX); compare with a per-byte reference.
    @Test func largeInputMatchesNaiveDefinition() {
        let bytes = [UInt8](repeating: 0xff, count: 100_000) + (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        #expect(Adler32.checksum(bytes) == (b << 16 | a))
        var incremental = Adler32()
        incremental.update(bytes[0..<12_345])
        incremental.update(bytes[12_345...])
        #expect(incremental.value == (b << 16 | a))
    }
}
