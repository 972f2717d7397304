import Synchronization

/// A tiny loopback TCP server that misbehaves on purpose, for client fault tests: a ``ScriptedServer``
/// whose script is one of a few canned misbehaviours.
///
/// Listens on 127.0.0.1, port 0 (see ``port``); ``stop()`` returns with the listener closed and every
/// connection shut down, so nothing is left behind. A client that never reads cannot wedge it: each
/// connection has a thread of its own, and every write is bounded.
public final class MisbehavingServer: Sendable {
    public enum Mode: Sendable, Equatable {
        /// Writes these bytes to every connection, then shuts down its sending side (the client
        /// reads the bytes, then EOF) and closes once the client closes.
        case garbage([UInt8])
        /// Writes a 4-byte big-endian frame length (meant to exceed the client's `jute.maxbuffer`)
        /// followed by a few bytes of body, then keeps the connection open (reading and discarding)
        /// until the peer closes or the server stops.
        case oversizedFrame(length: Int32)
        /// Accepts and immediately closes every connection without reading (the client sees EOF,
        /// or ECONNRESET if its first bytes were already in flight).
        case closeImmediately
        /// Reads one length-prefixed frame (e.g. the client's ConnectRequest) and then closes
        /// without answering — what Apache ZooKeeper does to a client whose last seen zxid is
        /// ahead of the server's.
        case closeAfterFirstFrame
        /// Accepts, reads and discards everything, never writes.
        case silent
    }

    public let mode: Mode
    private let server: ScriptedServer
    private let received: Counter

    /// The bound port on 127.0.0.1.
    public var port: Int { server.port }
    /// `127.0.0.1:<port>`.
    public var connectString: String { server.connectString }
    /// Connections accepted so far.
    public var acceptedConnections: Int { server.acceptedConnections }
    /// Bytes read from clients so far.
    public var bytesReceived: Int { received.value.load(ordering: .acquiring) }

    /// Binds, listens and serves every connection with `mode`'s script.
    public init(mode: Mode) throws {
        self.mode = mode
        let received = Counter()
        self.received = received
        server = try ScriptedServer(host: "127.0.0.1") { connection, _ in
            /// Reads one chunk (nil: EOF, error, or the server stopped), counting it.
            func read() -> [UInt8]? {
                guard let bytes = connection.readAvailable(timeout: nil) else { return nil }
                received.value.add(bytes.count, ordering: .releasing)
                return bytes
            }
            func discardUntilClosed() { while read() != nil {} }
            switch mode {
            case .closeImmediately:
                return
            case .garbage(let bytes):
                guard !bytes.isEmpty else { return }
                connection.write(bytes)
                // FIN after the bytes, then wait for the peer to close: closing with unread input
                // would send RST, and the client could lose the bytes we wrote.
                connection.finishWriting()
                discardUntilClosed()
            case .oversizedFrame(let length):
                connection.write(withUnsafeBytes(of: length.bigEndian) { Array($0) } + Array(repeating: 0x5A, count: 16))
                discardUntilClosed()
            case .closeAfterFirstFrame:
                var got: [UInt8] = []
                while let bytes = read() {
                    got += bytes
                    guard got.count >= 4 else { continue }
                    let length = Int(Int32(bitPattern: got.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
                    if got.count >= 4 + max(length, 0) { return }
                }
            case .silent:
                discardUntilClosed()
            }
        }
    }

    deinit {
        stop()
    }

    /// Stops serving: the listener is closed and every connection shut down when this returns. Idempotent.
    public func stop() {
        server.stop()
    }
}

private final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
