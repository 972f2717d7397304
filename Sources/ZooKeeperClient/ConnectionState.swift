/// The client's connection, in Curator's vocabulary.
///
/// Notable behaviours:
/// - ``suspended`` means the TCP connection is gone but the session may still live: anything that
///   depends on the session (a lock, leadership) is *uncertain*, not lost.
/// - ``presumedExpired`` means no server has been heard from for the whole negotiated session timeout,
///   measured on a monotonic clock: the server has almost certainly expired the session. Recipes should
///   give up ownership here. It is not terminal: if a server still knows the session the client goes to
///   ``reconnected``; if it confirms expiry, to ``lost(_:)`` with `.sessionExpired`.
/// - ``lost(_:)`` is terminal and is reported exactly once.
public enum ConnectionState: Hashable, Sendable, CustomStringConvertible {
    /// Not yet connected for the first time.
    case connecting
    /// The first session is established.
    case connected
    /// The connection was lost; the client is trying other servers and the session may still be alive.
    case suspended
    /// Still suspended, and the session timeout has elapsed since the last contact with any server.
    case presumedExpired
    /// Reconnected to the same session: watches re-registered, auth re-sent.
    case reconnected
    /// Connected to a read-only server (only with ``ZooKeeperConfiguration/allowReadOnly``).
    case readOnly
    /// The session is over for good.
    case lost(LossReason)

    /// Why a session ended.
    public enum LossReason: Hashable, Sendable {
        /// A server confirmed that the session expired.
        case sessionExpired
        /// A server rejected the credentials.
        case authFailed
        /// ``ZooKeeperClient/close()`` was called.
        case closed
        /// Every server refused the session (closing before the handshake, as Apache does when it has
        /// seen fewer transactions than this client) while granting a fresh session to a probe, for a
        /// whole session timeout. Refusals without that evidence (no quorum, an election, a server still
        /// loading, throttling) never end the session: the client keeps trying.
        case serversBehindSession
    }

    /// Whether requests can be sent now.
    public var isConnected: Bool {
        switch self {
        case .connected, .reconnected, .readOnly: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .connecting: return "CONNECTING"
        case .connected: return "CONNECTED"
        case .suspended: return "SUSPENDED"
        case .presumedExpired: return "PRESUMED_EXPIRED"
        case .reconnected: return "RECONNECTED"
        case .readOnly: return "READ_ONLY"
        case let .lost(reason): return "LOST(\(reason))"
        }
    }
}
