import ZooKeeperProtocol

/// Derives a session's 16-byte password from its id and a per-server secret (Apache derives it from
/// the id and a fixed secret too, so a recovered server can check passwords without storing them).
struct SessionPasswords: Sendable {
    let secret: [UInt8]

    func password(for sessionID: Int64) -> [UInt8] {
        var input = secret
        let bits = UInt64(bitPattern: sessionID)
        for shift in stride(from: 56, through: 0, by: -8) { input.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        return Array(SHA1.hash(input).prefix(16))
    }

    /// Constant-time comparison, so response timing does not leak how much of a guess was right.
    func matches(_ candidate: [UInt8], sessionID: Int64) -> Bool {
        let expected = password(for: sessionID)
        guard candidate.count == expected.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(candidate, expected) { difference |= a ^ b }
        return difference == 0
    }
}
