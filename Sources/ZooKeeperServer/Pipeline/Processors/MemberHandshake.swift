import ZooKeeperProtocol

/// What an ensemble member does with a handshake (Apache's Learner/LeaderZooKeeperServer): sessions are the
/// quorum's, so a new one waits for its createSession to commit and a known one for the leader's REVALIDATE.
///
/// Pure: the driver passes what its tables say and acts on the answer.
enum MemberHandshake: Sendable, Equatable {
    /// The member serves read-only (``ReadOnlyHandshake``).
    case readOnly
    /// No role serves: closed (Apache: "ZooKeeperServer not running"); the client tries another member.
    case notServing
    /// A new session: a createSession goes to the leader; the client is answered when it commits.
    case createSession
    /// A wrong password: answered "expired", then closed (every member derives the same password).
    case expired
    /// A known session: the leader is asked whether it is alive. `replacing`: the connection of an earlier
    /// handshake of the same session still waiting here, to close.
    case revalidate(replacing: UInt64?)

    /// The answer to `request` on `connection`. `revalidating`: the connection of a handshake of the same
    /// session already waiting for the leader, if any.
    static func of(_ request: ConnectRequest, on connection: UInt64, readOnly: Bool, serving: Bool,
                   passwordMatches: Bool, revalidating: UInt64?) -> MemberHandshake {
        if readOnly { return .readOnly }
        guard serving else { return .notServing }
        if request.sessionId == 0 { return .createSession }
        guard passwordMatches else { return .expired }
        guard let earlier = revalidating, earlier != connection else { return .revalidate(replacing: nil) }
        return .revalidate(replacing: earlier)
    }
}
