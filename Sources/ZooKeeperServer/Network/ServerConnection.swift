import ZooKeeperPOSIX
import ZooKeeperProtocol

/// One client connection, owned by the network thread: its partial input and state; its socket and queued
/// output are in ``output``, which the pipeline writes to as well.
final class ServerConnection {
    let id: UInt64
    let output: ConnectionOutput
    let remote: SocketAddress?
    var decoder: FrameDecoder
    /// Nothing read yet: the first four bytes may be a four-letter word.
    var isFresh = true
    /// Set once the ConnectRequest has been read; later frames are requests.
    var sawConnectRequest = false
    /// Close once the queued output is flushed.
    var closeAfterFlush = false
    /// Stop reading (a four-letter word was received, or the connection is being closed).
    var readClosed = false

    init(id: UInt64, socket: Socket, maxFrameLength: Int) {
        self.id = id
        self.output = ConnectionOutput(socket: socket)
        self.remote = socket.peerAddress
        // Apache (NIOServerCnxn.readLength) closes on `len > jute.maxbuffer`: the whole frame, header included.
        self.decoder = FrameDecoder(maximumLength: maxFrameLength)
    }

    var socket: Socket { output.socket }
}
