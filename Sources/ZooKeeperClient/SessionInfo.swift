/// A ZooKeeper session: what another client object (or another process) needs to resume it.
///
/// Codable so it can be saved; the password is never printed.
public struct SessionInfo: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The session id the server assigned.
    public var id: Int64
    /// The 16-byte session password.
    public var password: [UInt8]
    /// The negotiated session timeout in milliseconds.
    public var timeoutMilliseconds: Int32
    /// The newest zxid the client had seen when this value was taken (`nil` in values saved by older
    /// versions). A client resuming the session sends it in its handshake, so it never attaches to a
    /// server that lags behind what the session already saw (Apache refuses such a server's session).
    public var lastZxidSeen: Int64?

    public init(id: Int64, password: [UInt8], timeoutMilliseconds: Int32, lastZxidSeen: Int64? = nil) {
        self.id = id
        self.password = password
        self.timeoutMilliseconds = timeoutMilliseconds
        self.lastZxidSeen = lastZxidSeen
    }

    /// The negotiated session timeout.
    public var timeout: Duration { .milliseconds(Int64(timeoutMilliseconds)) }

    /// The id as ZooKeeper prints it (`0x1000008a889001d`).
    public var idHex: String { "0x" + String(UInt64(bitPattern: id), radix: 16) }

    public var description: String { "SessionInfo(id: \(idHex), timeout: \(timeoutMilliseconds) ms)" }
}
