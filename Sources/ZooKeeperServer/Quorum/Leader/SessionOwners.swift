/// Which member serves each global session, as the leader sees it: the member the session was created
/// through or last revalidated at (the `owner` Apache's `SessionTrackerImpl` keeps per session, and its
/// `checkSession`). Pure: the leader's driver asks before it proposes, and acts on the answers.
struct SessionOwners: Sendable {
    /// The leader's own sid: its client side must learn when a session it served moves on.
    let leader: Int64
    private var owners: [Int64: Int64] = [:]

    init(leader: Int64) {
        self.leader = leader
    }

    /// The member that serves `session`; nil for one nobody has used since this leadership began.
    func owner(of session: Int64) -> Int64? { owners[session] }

    /// A new session, made through `member` (createSession).
    mutating func created(_ session: Int64, through member: Int64) {
        owners[session] = member
    }

    /// A write of `session` that `member` forwarded (or the leader's own client side sent): true when another
    /// member serves the session now, and the write is refused (SESSIONMOVED), so a late write from a client's
    /// old connection cannot land after the session's writes through its new member. A session with no
    /// owner yet — inherited from an earlier epoch — becomes `member`'s, as `checkSession` sets a missing owner.
    mutating func isMoved(_ session: Int64, writingThrough member: Int64) -> Bool {
        if let owner = owners[session] { return owner != member }
        owners[session] = member
        return false
    }

    /// A live session revalidated at `member` (a client reconnected there): that member serves it from now
    /// on. True when this takes the session from the leader's own clients: their next read on the leader
    /// closes the connection, as Apache's leader checks reads too.
    mutating func revalidated(_ session: Int64, at member: Int64) -> Bool {
        owners.updateValue(member, forKey: session) == leader && member != leader
    }

    /// The session closed or expired.
    mutating func closed(_ session: Int64) {
        owners[session] = nil
    }
}
