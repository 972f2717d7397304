import ZooKeeperPOSIX
import ZooKeeperProtocol

/// One TCP connection on the election port, as `QuorumCnxManager` runs it: an outbound connection
/// writes the initial message first; an inbound one reads it; afterwards both directions carry
/// `int length` + notification frames. Owned and touched by the elector's thread only.
final class ElectionChannel {
    enum Phase {
        /// Outbound, waiting for the connect to finish.
        case connecting(deadline: ContinuousClock.Instant)
        /// Inbound, waiting for the peer's initial message.
        case awaitingInitialMessage(deadline: ContinuousClock.Instant)
        /// Outbound to a larger sid: close once the initial message is out (the peer dials back).
        case closingAfterWrite
        /// Carrying notifications with peer `sid`.
        case established
    }

    let id: Int
    let socket: Socket
    /// The peer's sid: known from the start for outbound channels, from the initial message for inbound.
    var sid: Int64?
    var phase: Phase
    private var input: [UInt8] = []
    private var output: [UInt8] = []
    private var written = 0

    init(id: Int, socket: Socket, sid: Int64?, phase: Phase) {
        self.id = id
        self.socket = socket
        self.sid = sid
        self.phase = phase
    }

    var deadline: ContinuousClock.Instant? {
        switch phase {
        case let .connecting(deadline), let .awaitingInitialMessage(deadline): deadline
        case .closingAfterWrite, .established: nil
        }
    }

    /// Whether everything queued has reached the kernel.
    var isDrained: Bool { written == output.count }

    var pollEvents: Int16 {
        switch phase {
        case .connecting: Poller.writable
        case .awaitingInitialMessage: Poller.readable
        case .closingAfterWrite: Poller.writable
        case .established: Poller.readable | (isDrained ? 0 : Poller.writable)
        }
    }

    func enqueue(_ bytes: [UInt8]) {
        if written == output.count {
            output.removeAll(keepingCapacity: true)
            written = 0
        }
        output += bytes
    }

    /// Writes what the kernel takes now.
    func flush() throws(SocketError) {
        while written < output.count {
            let count = try socket.write(output, from: written)
            if count == 0 { return }
            written += count
        }
    }

    /// Reads what is available; false on end of stream.
    func fill(scratch: inout [UInt8]) throws(SocketError) -> Bool {
        while true {
            switch try socket.read(into: &scratch) {
            case let .bytes(count):
                input += scratch[0..<count]
                if input.count > ElectionNotification.maxFrameLength + 4 { return true }
            case .wouldBlock:
                return true
            case .endOfFile:
                return false
            }
        }
    }

    /// The peer's initial message once complete (consumed from the input).
    func takeInitialMessage() throws(JuteDecodingError) -> ElectionInitialMessage? {
        switch try ElectionInitialMessage.decode(input[...]) {
        case .needMore:
            return nil
        case let .message(message, length):
            input.removeFirst(length)
            return message
        }
    }

    /// Why the channel must close.
    struct FrameError: Error {
        var length: Int32
    }

    /// The complete frames' payloads received so far. A length outside 1…512 KiB closes the channel,
    /// as Apache's `RecvWorker` does.
    func takeFrames() throws(FrameError) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var offset = 0
        while input.count - offset >= 4 {
            let length = input[offset..<(offset + 4)].reduce(Int32(0)) { $0 << 8 | Int32($1) }
            guard length > 0, Int(length) <= ElectionNotification.maxFrameLength else { throw FrameError(length: length) }
            guard input.count - offset - 4 >= Int(length) else { break }
            frames.append(Array(input[(offset + 4)..<(offset + 4 + Int(length))]))
            offset += 4 + Int(length)
        }
        input.removeFirst(offset)
        return frames
    }

    static func frame(_ payload: [UInt8]) -> [UInt8] {
        var writer = JuteWriter(capacity: payload.count + 4)
        writer.write(Int32(payload.count))
        writer.writeRaw(payload)
        return writer.bytes
    }
}
