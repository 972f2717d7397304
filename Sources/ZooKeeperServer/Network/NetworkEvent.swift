import ZooKeeperProtocol

/// What the network thread hands to the request pipeline, in arrival order.
enum NetworkEvent: Sendable {
    /// A connection's first frame: its handshake.
    case connect(connection: UInt64, remote: String, request: ConnectRequest, sentReadOnlyFlag: Bool)
    /// A request frame after the handshake.
    case request(connection: UInt64, header: RequestHeader, body: [UInt8], receivedAt: ContinuousClock.Instant)
    /// A four-letter word: answer it and close.
    case fourLetterWord(connection: UInt64, remote: String, command: String)
    /// The connection is gone (closed by the peer, by an error, or by the server).
    case closed(connection: UInt64)
}

/// Commands the pipeline sends to the network thread.
enum NetworkCommand: Sendable {
    case send(connection: UInt64, bytes: [UInt8])
    /// Close after flushing what is queued (e.g. after a closeSession reply or a 4lw answer).
    case close(connection: UInt64)
    /// Drop at once, queued output discarded (e.g. a refused handshake: no reply at all).
    case abort(connection: UInt64)
}
