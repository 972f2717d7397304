import ZooKeeperPOSIX

/// Bytes read from one side of a proxied connection and not yet written to the other, in order,
/// each chunk with the instant it may be forwarded (now, or later under an injected delay).
struct RelayBuffer {
    /// Reading from the source pauses while this many bytes wait (backpressure).
    static let limit = 256 * 1024

    private(set) var chunks: [(releaseAt: ContinuousClock.Instant, bytes: [UInt8])] = []
    /// How much of `chunks[0]` has been written already.
    private var headOffset = 0
    private(set) var count = 0
    /// The source sent EOF: once the buffer is flushed the connection closes.
    var sourceClosed = false

    var isEmpty: Bool { chunks.isEmpty }
    var hasRoom: Bool { count < Self.limit }

    mutating func append(_ bytes: [UInt8], releaseAt: ContinuousClock.Instant) {
        chunks.append((releaseAt, bytes))
        count += bytes.count
    }

    /// The head chunk's release instant, when it is not yet due (the poll loop's next deadline).
    func pendingRelease(after now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard let head = chunks.first, head.releaseAt > now else { return nil }
        return head.releaseAt
    }

    /// Whether a released chunk is waiting to be written.
    func hasDue(at now: ContinuousClock.Instant) -> Bool {
        guard let head = chunks.first else { return false }
        return head.releaseAt <= now
    }

    /// Writes every released chunk `destination` accepts without blocking.
    mutating func flush(to destination: Socket, now: ContinuousClock.Instant) throws {
        while let head = chunks.first, head.releaseAt <= now {
            let written = try destination.write(head.bytes, from: headOffset)
            if written == 0 { return }  // would block: POLLOUT will tell us when to go on
            headOffset += written
            count -= written
            if headOffset == head.bytes.count {
                chunks.removeFirst()
                headOffset = 0
            }
        }
    }
}

/// One client connection through the proxy. Confined to the relay thread.
final class RelayConnection {
    enum Phase {
        /// Accepted during a both-ways stall (not connected upstream until heal), or waiting to retry a
        /// refused upstream connect (`retryAt`).
        case held
        /// Waiting for the non-blocking upstream connect.
        case connecting(Socket)
        /// Relaying between `client` and `upstream`.
        case relaying(Socket)
        case closed
    }

    let client: Socket
    var phase: Phase = .held
    /// Bytes read from the client, to be written upstream.
    var toServer = RelayBuffer()
    /// Bytes read from the upstream server, to be written to the client.
    var toClient = RelayBuffer()
    /// The client's first bytes, held for the proxy's rewriter (nil: none, or decided).
    var rewrite: FirstBytesRewrite?

    /// When the proxy accepted it (bounds the upstream retries).
    let acceptedAt: ContinuousClock.Instant
    /// When a held connection retries its refused upstream connect (nil: held by a stall, or never refused).
    var retryAt: ContinuousClock.Instant?

    init(client: Socket, acceptedAt: ContinuousClock.Instant) {
        self.client = client
        self.acceptedAt = acceptedAt
    }

    var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    var upstream: Socket? {
        switch phase {
        case .connecting(let socket), .relaying(let socket): return socket
        case .held, .closed: return nil
        }
    }

    /// Closes both sides: gracefully (FIN), or abortively (RST) when `reset`.
    func close(reset: Bool) {
        guard !isClosed else { return }
        let sockets = [client] + (upstream.map { [$0] } ?? [])
        for socket in sockets {
            if reset { socket.reset() } else { socket.close() }
        }
        phase = .closed
    }
}

/// A connection's first client bytes, held until a ``FaultProxy/FirstBytesRewriter`` says what to
/// forward instead; everything after goes through untouched. A class: changed in place through the
/// connection's optional property (as a struct, Swift 6.3's optimizer crashed on that access in release builds:
/// "read-only scope invalidated by a local write"). Used on the relay thread only.
final class FirstBytesRewrite {
    /// Held bytes beyond which the rewriter is given up on and they pass as they are.
    static let limit = 4096
    let rewriter: FaultProxy.FirstBytesRewriter
    private var held: [UInt8] = []
    private var decided = false

    init(rewriter: @escaping FaultProxy.FirstBytesRewriter) {
        self.rewriter = rewriter
    }

    /// Takes bytes read from the client; returns what to forward now (nothing while undecided).
    func feed(_ bytes: [UInt8]) -> [UInt8] {
        guard !decided else { return bytes }
        held += bytes
        if let (consumed, replacement) = rewriter(held) {
            decided = true
            let forwarded = replacement + held[min(consumed, held.count)...]
            held = []
            return forwarded
        }
        return held.count > Self.limit ? flush() : []
    }

    /// Gives up on the rewriter: returns the held bytes unchanged.
    func flush() -> [UInt8] {
        decided = true
        let bytes = held
        held = []
        return bytes
    }
}
