import ZooKeeperProtocol

/// Per-session request order on an ensemble member (Apache's `CommitProcessor`): a session's requests are
/// answered in the order they came; writes and `sync`s go to the leader at once, and every later request of
/// the same session waits until they come back committed (or synced), so a client always reads its own
/// writes. Requests of other sessions are not held up.
///
/// The member chain's processor after ``PrepProcessor`` (route `.commitQueue`); Apache's Follower- and
/// LeaderRequestProcessor's forwarding is its `.forward` action. Pure: the pipeline feeds it requests and
/// commits and performs the actions it returns.
struct CommitQueue<Request>: Sendable where Request: Sendable {
    enum Kind: Sendable, Equatable {
        /// Answered from the member's database.
        case read
        /// Committed by the quorum; matched by the commit's session and cxid.
        case write
        /// Answered when the leader's SYNC comes back.
        case sync
    }

    struct Entry: Sendable {
        var session: Int64
        var cxid: Int32
        var kind: Kind
        var request: Request
    }

    enum Action: Sendable {
        /// Answer this read now, from the database.
        case read(Entry)
        /// Send this write or sync to the leader.
        case forward(Entry)
        /// This write is committed: answer it with the commit's result.
        case complete(Entry)
        /// This sync came back: answer it (as a read, now that everything before it is applied).
        case synced(Entry)
        /// The commit does not match what the session waits for: a request of this session sent through
        /// another member (before or after a move). It is applied without an answer here and the session keeps
        /// waiting, as Apache's CommitProcessor ("Got request … but the next pending request is …").
        case mismatch(session: Int64, expected: Int32, got: Int32)
    }

    /// Sessions with a write or sync outstanding, and everything they sent after it.
    private var waiting: [Int64: FIFO<Entry>] = [:]
    /// Sessions whose `sync` is outstanding, in the order they were forwarded (the leader answers in order);
    /// nil stands for a dropped session's sync, still to be answered and ignored.
    private var syncs = FIFO<Int64?>()

    init() {}

    /// Requests waiting, all sessions together (`mntr`'s outstanding requests).
    var count: Int { waiting.values.reduce(0) { $0 + $1.count } }

    mutating func submit(_ entry: Entry) -> [Action] {
        if entry.kind == .read && waiting[entry.session] == nil { return [.read(entry)] }
        waiting[entry.session, default: FIFO()].append(entry)
        switch entry.kind {
        case .read: return []
        case .write: return [.forward(entry)]
        case .sync:
            syncs.append(entry.session)
            return [.forward(entry)]
        }
    }

    /// A committed transaction of `session` (`cxid` from its header). Commits of sessions that wait for
    /// nothing here belong to other members' clients (or to the leader itself: expiry) and need no answer.
    mutating func committed(session: Int64, cxid: Int32) -> [Action] {
        guard let head = waiting[session]?.first else { return [] }
        guard head.kind == .write, head.cxid == cxid else {
            return [.mismatch(session: session, expected: head.cxid, got: cxid)]
        }
        return [.complete(head)] + advance(session)
    }

    /// The leader answered the oldest forwarded `sync`.
    mutating func syncCompleted() -> [Action] {
        guard let session = syncs.popFirst() ?? nil else { return [] }
        guard let head = waiting[session]?.first, head.kind == .sync else { return [] }
        return [.synced(head)] + advance(session)
    }

    /// Forgets a session (its connection closed): later commits of its writes need no answer.
    mutating func drop(_ session: Int64) {
        waiting[session] = nil
        // Its place in `syncs` stays: the leader still answers that sync, and the answer must not be taken
        // for the next one's.
        for index in 0..<syncs.count where syncs[index] == session { syncs[index] = nil }
    }

    /// Forgets everything (the role ended).
    mutating func reset() {
        waiting = [:]
        syncs.removeAll()
    }

    /// Pops the completed head, then releases the reads behind it, up to the next write or sync. The queue is
    /// changed in place (a copy taken out of the table would be copied whole on its first change: with a few
    /// hundred requests in flight that was a tenth of a follower's time).
    private mutating func advance(_ session: Int64) -> [Action] {
        var actions: [Action] = []
        let emptied: Bool? = waiting[session]?.popReads(into: &actions)
        if emptied == true { waiting[session] = nil }
        return actions
    }
}

extension FIFO {
    /// Drops the completed head and takes the reads behind it, up to the next write or sync; true if nothing is left.
    fileprivate mutating func popReads<Request>(into actions: inout [CommitQueue<Request>.Action]) -> Bool
    where Element == CommitQueue<Request>.Entry {
        _ = popFirst()
        while let next = first, next.kind == .read {
            actions.append(.read(next))
            _ = popFirst()
        }
        return isEmpty
    }
}
