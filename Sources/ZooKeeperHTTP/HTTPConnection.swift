import ZooKeeperPOSIX

/// One client connection as the server thread sees it (confined to that thread).
final class HTTPConnection {
    enum Phase {
        /// Waiting for (the rest of) a request.
        case reading
        /// A handler has the request; nothing more is read until it answers.
        case handling
        /// Writing a response.
        case sending
        /// A streamed response: chunks are written as the handler posts them, until it finishes the
        /// stream or the client goes away.
        case streaming
        /// The last response is out and the write side shut: reading and discarding until the client closes,
        /// so that unread input does not turn our close into a reset that destroys the response in flight.
        case draining
    }

    let id: UInt64
    let socket: Socket
    var parser: HTTPRequestParser
    var phase = Phase.reading
    var outbound: [UInt8] = []
    var outboundOffset = 0
    var closeAfterSend = false
    /// The streamed response in progress (phase `streaming`, or `sending` its last bytes).
    var stream: HTTPStream?
    /// Whether the client sent bytes during a stream: they were dropped, so the connection cannot serve
    /// another request after it.
    var inputDuringStream = false
    /// When the current phase times out.
    var deadline: ContinuousClock.Instant

    init(id: UInt64, socket: Socket, limits: HTTPRequestParser.Limits, deadline: ContinuousClock.Instant) {
        self.id = id
        self.socket = socket
        self.parser = HTTPRequestParser(limits: limits)
        self.deadline = deadline
    }

    var hasPendingOutput: Bool { outboundOffset < outbound.count }
    var pendingOutputCount: Int { outbound.count - outboundOffset }

    func queue(_ bytes: [UInt8], close: Bool, deadline: ContinuousClock.Instant) {
        outbound = bytes
        outboundOffset = 0
        closeAfterSend = close
        phase = .sending
        self.deadline = deadline
    }

    /// Adds bytes behind those not written yet (a stream's next chunk).
    func append(_ bytes: [UInt8]) {
        if outboundOffset > 0 && outboundOffset >= outbound.count / 2 {
            outbound.removeFirst(outboundOffset)
            outboundOffset = 0
        }
        outbound += bytes
    }

    /// Writes what the socket takes; false when the connection broke.
    func flush() -> Bool {
        guard hasPendingOutput else { return true }
        do {
            let written = try socket.write(outbound, from: outboundOffset)
            outboundOffset += written
            return true
        } catch {
            return false
        }
    }
}
