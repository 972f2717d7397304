import ZooKeeperProtocol

/// What a read-only member does with a client request (Apache's `ReadOnlyRequestProcessor`).
enum ReadOnlyVerdict: Sendable, Equatable {
    /// Answered from the member's last committed database (reads, watches, pings, `setWatches`…).
    case serve
    /// Answered with NOTREADONLY (-119) and the database's last zxid; the connection stays.
    case notReadOnly
    /// `closeSession` of a session local to this member: ended here, nothing reaches a quorum.
    case closeLocally

    /// Apache's list: every state-changing request and `sync` (there is no leader to sync with) are
    /// refused; `createSession`/`closeSession` only pass for local sessions, and a read-only member's
    /// sessions are all local.
    static func of(_ opCode: OpCode) -> ReadOnlyVerdict {
        switch opCode {
        case .sync, .create, .create2, .createTTL, .createContainer, .delete, .deleteContainer, .setData, .reconfig,
             .setACL, .multi, .check:
            return .notReadOnly
        case .closeSession:
            return .closeLocally
        default:
            return .serve
        }
    }
}
