/// Byte-level mutations of a valid request stream (after the handshake).
enum FuzzMutations {
    /// Boundary values written over a 4-byte field.
    private static let int32Boundaries: [Int32] = [0, -1, 1, Int32.max, Int32.min, 0xFFFFF, 0x100000, -2, -4, -8, 255, 65_536]

    /// Applies 1–4 mutations to `bytes`.
    static func mutate(_ bytes: [UInt8], _ random: inout FuzzRandom) -> [UInt8] {
        var result = bytes
        for _ in 0..<random.int(1...4) {
            guard !result.isEmpty else { return random.bytes(random.int(1...16)) }
            let at = random.int(0...(result.count - 1))
            switch random.int(0...7) {
            case 0: result[at] ^= UInt8(1) << UInt8(random.int(0...7))  // one bit
            case 1: result[at] = UInt8(truncatingIfNeeded: random.next())  // one byte
            case 2:
                // A boundary value over four bytes (a length, count, xid, type or flags field).
                let value = RawConnection.int32(random.pick(int32Boundaries))
                for (offset, byte) in value.enumerated() where at + offset < result.count { result[at + offset] = byte }
            case 3: result.removeSubrange(at..<min(result.count, at + random.int(1...16)))  // a deletion
            case 4: result.insert(contentsOf: random.bytes(random.int(1...16)), at: at)  // an insertion
            case 5: result = Array(result[..<at])  // cut short
            case 6:
                // A duplicated stretch (a replayed piece of a frame).
                let end = min(result.count, at + random.int(1...64))
                result.insert(contentsOf: result[at..<end], at: end)
            default: result[at] = random.pick([0x00, 0xFF, 0x7F, 0x80, 0x2F])
            }
        }
        return result
    }

    /// `bytes` cut into pieces of 1–7 bytes (at most about 300 pieces; longer inputs get longer pieces).
    static func fragments(_ bytes: [UInt8], _ random: inout FuzzRandom) -> [[UInt8]] {
        let scale = max(1, bytes.count / 300)
        var pieces: [[UInt8]] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + random.int(1...7) * scale)
            pieces.append(Array(bytes[start..<end]))
            start = end
        }
        return pieces
    }
}
