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
    /// When the current phase times out.
    var deadline: ContinuousClock.Instant

    init(id: UInt64, socket: Socket, limits: HTTPRequestParser.Limits, deadline: ContinuousClock.Instant) {
        self.id = id
        self.socket = socket
        self.parser = HTTPRequestParser(limits: limits)
        self.deadline = deadline
    }

    var hasPendingOutput: Bool { outboundOffset < outbound.count }

    func queue(_ bytes: [UInt8], close: Bool, deadline: ContinuousClock.Instant) {
        outbound = bytes
        outboundOffset = 0
        closeAfterSend = close
        phase = .sending
        self.deadline = deadline
    }

    /// Writes what the socket takes; false when the connection broke.
    func flush() -> Bool {
        do {
            let written = try socket.write(outbound, from: outboundOffset)
            outboundOffset += written
            return true
        } catch {
            return false
        }
    }
}
