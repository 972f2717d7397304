import ZooKeeperProtocol

/// What a read-only member does with a handshake (Apache's `ReadOnlyZooKeeperServer` with its
/// `ReadOnlyRequestProcessor`): only clients that asked for a read-only server are admitted, new sessions
/// only when local sessions are enabled, and only its own local sessions resume.
///
/// Pure: the driver passes what its tables say and acts on the answer.
enum ReadOnlyHandshake: Sendable, Equatable {
    /// A client that did not ask for a read-only server: closed unanswered (it looks for a read-write one).
    case refuseReadWriteClient
    /// A new session without `localSessionsEnabled`: Apache answers NOTREADONLY as a reply header where the
    /// client expects its ConnectResponse; the connection stays.
    case refuseNewSession
    /// A new session, local to this member.
    case createLocal
    /// A global session (committed by a quorum) reconnecting: closed unanswered, as Apache does.
    case refuseGlobal
    /// An unknown session or a wrong password: answered "expired", then closed.
    case expired
    /// A local session resumes here; `movedFrom`: the connection that served it, to close.
    case resume(movedFrom: UInt64?)

    /// The answer to `request` on `connection`. `local`: the member's entry for the session, if any;
    /// `isGlobal`: the committed database knows the session.
    static func of(_ request: ConnectRequest, on connection: UInt64, localSessionsEnabled: Bool, local: ServerSession?,
                   isGlobal: Bool, passwordMatches: Bool) -> ReadOnlyHandshake {
        guard request.readOnly else { return .refuseReadWriteClient }
        if request.sessionId == 0 { return localSessionsEnabled ? .createLocal : .refuseNewSession }
        guard let local else { return isGlobal ? .refuseGlobal : .expired }
        guard passwordMatches else { return .expired }
        guard let old = local.connectionID, old != connection else { return .resume(movedFrom: nil) }
        return .resume(movedFrom: old)
    }
}
