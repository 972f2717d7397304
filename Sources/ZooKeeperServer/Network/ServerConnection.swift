import ZooKeeperPOSIX
import ZooKeeperProtocol

/// One client connection, owned by the network thread: its socket, partial input, and queued output.
final class ServerConnection {
    let id: UInt64
    let socket: Socket
    let remote: SocketAddress?
    var decoder: FrameDecoder
    /// Bytes waiting to be written, and how much of them has been.
    var outbound: [UInt8] = []
    var outboundOffset = 0
    /// Nothing read yet: the first four bytes may be a four-letter word.
    var isFresh = true
    /// Set once the ConnectRequest has been read; later frames are requests.
    var sawConnectRequest = false
    /// Close once `outbound` is flushed.
    var closeAfterFlush = false
    /// Stop reading (a four-letter word was received, or the connection is being closed).
    var readClosed = false

    init(id: UInt64, socket: Socket, maxFrameLength: Int) {
        self.id = id
        self.socket = socket
        self.remote = socket.peerAddress
        // Apache (NIOServerCnxn.readLength) closes on `len > jute.maxbuffer`: the whole frame, header included.
        self.decoder = FrameDecoder(maximumLength: maxFrameLength)
    }

    var hasPendingOutput: Bool { outboundOffset < outbound.count }

    func enqueue(_ bytes: [UInt8]) {
        if outboundOffset == outbound.count {
            outbound = bytes
            outboundOffset = 0
        } else {
            outbound.append(contentsOf: bytes)
        }
    }

    /// Writes what the kernel takes now. Returns false if the socket failed.
    func flush() -> Bool {
        guard hasPendingOutput else { return true }
        do {
            outboundOffset += try socket.write(outbound, from: outboundOffset)
        } catch {
            return false
        }
        if outboundOffset == outbound.count {
            outbound.removeAll(keepingCapacity: outbound.capacity <= 1 << 20)
            outboundOffset = 0
        }
        return true
    }
}
