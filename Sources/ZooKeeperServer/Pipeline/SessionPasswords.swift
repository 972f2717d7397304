import ZooKeeperProtocol

/// Derives a session's 16-byte password from its id, so a server can check passwords without storing them.
///
/// Two schemes:
/// - `secret`: SHA-1 of a per-server secret and the id (a standalone server; the secret lives in its data
///   directory, so a restarted server still recognises its sessions).
/// - `apache`: Apache's `ZooKeeperServer.generatePasswd` — `java.util.Random(id ^ 0xB3415C00).nextBytes`.
///   Every member of an ensemble must derive the same password for a session (a client may move to any
///   member), Apache's members included; this is the only scheme they all know.
struct SessionPasswords: Sendable {
    private enum Scheme: Sendable {
        case secret([UInt8])
        case apache
    }

    private let scheme: Scheme

    init(secret: [UInt8]) { scheme = .secret(secret) }

    private init(scheme: Scheme) { self.scheme = scheme }

    /// Apache's fixed scheme, shared by every member of an ensemble.
    static let apache = SessionPasswords(scheme: .apache)

    /// Apache's `superSecret`.
    private static let apacheSecret: Int64 = 0xB341_5C00

    func password(for sessionID: Int64) -> [UInt8] {
        switch scheme {
        case let .secret(secret):
            var input = secret
            let bits = UInt64(bitPattern: sessionID)
            for shift in stride(from: 56, through: 0, by: -8) { input.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
            return Array(SHA1.hash(input).prefix(16))
        case .apache:
            var random = JavaRandom(seed: sessionID ^ Self.apacheSecret)
            return random.nextBytes(16)
        }
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

/// `java.util.Random`'s linear congruential generator, bit for bit (only what Apache's passwords use).
struct JavaRandom: Sendable {
    private static let multiplier: UInt64 = 0x5_DEEC_E66D
    private static let mask: UInt64 = (1 << 48) - 1
    private var seed: UInt64

    init(seed: Int64) {
        self.seed = (UInt64(bitPattern: seed) ^ Self.multiplier) & Self.mask
    }

    /// `next(bits)`: the top `bits` of the 48-bit state, as a signed int.
    private mutating func next(_ bits: Int) -> Int32 {
        seed = (seed &* Self.multiplier &+ 0xB) & Self.mask
        return Int32(truncatingIfNeeded: Int64(bitPattern: seed) >> (48 - bits))
    }

    mutating func nextInt() -> Int32 { next(32) }

    /// `nextBytes`: each `nextInt()` fills up to four bytes, low byte first.
    mutating func nextBytes(_ count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count {
            var value = nextInt()
            for _ in 0..<min(4, count - bytes.count) {
                bytes.append(UInt8(truncatingIfNeeded: value))
                value >>= 8
            }
        }
        return bytes
    }
}
