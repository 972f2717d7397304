/// One case of the request-path fuzzer: the bytes one connection sends and what the server must do
/// with them. Made by ``FuzzCaseGenerator/makeCase(seed:index:)`` (a pure function of seed and index)
/// and carried out by ``FuzzCaseRunner``.
public struct FuzzCase: Sendable, Equatable {
    /// The run's seed and this case's index in it: together they rebuild the case exactly.
    public let seed: UInt64
    public let index: UInt64
    public let family: FuzzFamily
    /// Written in order; the runner writes each chunk separately (split frames arrive in pieces).
    public var chunks: [[UInt8]]
    /// What the server must send back, and how the connection ends.
    public var expectation: FuzzExpectation

    public init(seed: UInt64, index: UInt64, family: FuzzFamily, chunks: [[UInt8]], expectation: FuzzExpectation) {
        self.seed = seed
        self.index = index
        self.family = family
        self.chunks = chunks
        self.expectation = expectation
    }

    /// Every byte the case sends.
    public var bytes: [UInt8] { chunks.flatMap { $0 } }
}

/// The kinds of input the generator makes (one per case), named in reports.
public enum FuzzFamily: String, Sendable, CaseIterable, Codable {
    /// Well-formed requests of every 3.8 opcode on the fuzz subtree, pipelined on one session.
    case wellFormed
    /// A well-formed case cut into tiny chunks (1–7 bytes each).
    case fragmented
    /// Writes and reads on hostile paths (empty, relative, `//`, `.`/`..`, NUL, control and
    /// surrogate-range characters, invalid UTF-8, 64 KiB long).
    case hostilePaths
    /// create/setACL with hostile ACL lists (empty, unknown schemes, malformed digest/ip ids, odd perms, thousands of entries).
    case hostileACLs
    /// multi/multiRead with odd sub-ops: empty, unsupported or unknown op types, nested multi,
    /// reads in a write multi and writes in a multiRead, no end marker, lying headers.
    case oddMulti
    /// Auth packets: digest (odd credentials), ip, unknown schemes (AUTHFAILED then close), sasl.
    case auth
    /// Unknown opcodes and server-internal ones (createSession, deleteContainer, error, notification).
    case unknownOpcodes
    /// Requests under reserved xids (-1, -2, -4, -8) and extreme ones.
    case hostileXids
    /// ConnectRequests that are odd: unknown sessions, wrong passwords, zxid from the future,
    /// negative or huge timeouts, short or long records.
    case connectVariants
    /// Huge, negative and lying length prefixes.
    case lengthPrefixes
    /// Frames cut short, then a half-close or an abrupt reset.
    case halfWritten
    /// A well-formed case with bytes flipped, fields set to boundary values, cut or padded.
    case mutated
    /// Random bytes, before or after a handshake.
    case garbage
    /// Four-letter words (every one, and some with trailing bytes).
    case fourLetterWords
    /// Frames close to jute.maxbuffer (large data and watch lists).
    case oversized
    /// Quota nodes (`/zookeeper/quota/…/zookeeper_limits|stats`) holding hostile texts, then writes below them.
    case quotas
}

/// A frame the server must send.
public enum FuzzExpectedFrame: Sendable, Equatable {
    /// The ConnectResponse of a new session (non-zero session id and timeout).
    case connectResponse
    /// A ConnectResponse refusing the session (timeout 0, session 0): unknown session or wrong password.
    case connectRefused
    /// A reply with this xid whose `err` is one of `errors` (notifications, xid -1, may come before it);
    /// `request` names what was asked, for reports.
    case reply(xid: Int32, errors: Set<Int32>, request: String)
}

/// How the exchange must end.
public enum FuzzExpectation: Sendable, Equatable {
    /// These frames in order; then the server keeps the connection open (`thenClosed` false) or
    /// closes it (true).
    case frames([FuzzExpectedFrame], thenClosed: Bool)
    /// The server must close the connection by itself (it refused a frame), after any well-framed answers.
    case closes
    /// Any well-framed answer: after the case's bytes the runner half-closes and the server must close
    /// the connection in time. Catches hangs and malformed replies, not wrong answers.
    case closesAfterEOF
    /// The runner resets the connection right after writing: only the server's survival is checked.
    case abandon
}
