import ZooKeeperProtocol

/// The handshake half of the prep gate: what a `ConnectRequest` leads to.
extension PrepProcessor {
    /// What a handshake does, decided before any session is looked at.
    enum Handshake: Sendable, Equatable {
        /// The client's session is partitioned away (fault injection): no answer at all, so the client's
        /// connect timeout fires. Closing instead would look like Apache's "client zxid ahead" refusal, which a
        /// client may rightly treat as terminal for a lone server.
        case unanswered
        /// The client has seen a zxid this server has not applied: close without a reply (Apache), so the
        /// client tries a server that has caught up.
        case refuseBehind
        /// Member: the quorum decides (a new session commits a createSession; a known one is revalidated by
        /// the leader).
        case member(timeout: Int32)
        /// Standalone: a new session.
        case create(timeout: Int32)
        /// Standalone: the client resumes a session (``resume(_:passwordMatches:on:)``).
        case resume(session: Int64, timeout: Int32)
    }

    /// The handshake's route; `minTimeout` and `maxTimeout` bound the session timeout (ms).
    static func handshake(_ request: ConnectRequest, partitioned: Bool, lastZxid: Int64, mode: Mode,
                          minTimeout: Int, maxTimeout: Int) -> Handshake {
        if partitioned { return .unanswered }
        if request.lastZxidSeen > lastZxid { return .refuseBehind }
        let timeout = negotiatedTimeout(request.timeOut, min: minTimeout, max: maxTimeout)
        if mode == .member { return .member(timeout: timeout) }
        if request.sessionId == 0 { return .create(timeout: timeout) }
        return .resume(session: request.sessionId, timeout: timeout)
    }

    /// Whether a standalone session may be resumed.
    enum Resumption: Sendable, Equatable {
        /// An unknown, expired, closing or wrong-password session: answered "expired" (timeOut 0), then closed.
        case refused
        /// The session is served on the new connection. `movedFrom`: the connection that served it, to close
        /// (DisconnectReason.CLIENT_RECONNECT); its watches go, the client re-registers them.
        case resumed(movedFrom: UInt64?)
    }

    /// Whether `existing` (the session table's entry, if any) may be resumed on `connection`.
    static func resume(_ existing: ServerSession?, passwordMatches: Bool, on connection: UInt64) -> Resumption {
        guard let existing, !existing.isClosing, passwordMatches else { return .refused }
        guard let old = existing.connectionID, old != connection else { return .resumed(movedFrom: nil) }
        return .resumed(movedFrom: old)
    }
}
