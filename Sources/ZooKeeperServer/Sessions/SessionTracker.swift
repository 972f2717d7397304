import ZooKeeperProtocol

/// A client session as the server tracks it.
struct ServerSession: Sendable, Hashable {
    let id: Int64
    /// Negotiated timeout in milliseconds.
    let timeout: Int32
    /// When it expires unless touched (milliseconds on the tracker's clock), rounded up to a tick.
    var expiresAt: Int64
    /// The connection currently serving it, if any.
    var connectionID: UInt64?
    /// `closeSession` was requested or expiry began: no more requests are accepted.
    var isClosing = false
}

/// Sessions, their expiry buckets by tick, and which connection serves each (Apache's
/// `SessionTrackerImpl` + `ExpiryQueue`).
///
/// Pure: the caller supplies "now" (monotonic milliseconds), so it is testable without threads.
struct SessionTracker: Sendable {
    let tickTime: Int64
    private(set) var sessions: [Int64: ServerSession] = [:]
    /// Expiry time (a multiple of tickTime) → sessions due then.
    private var buckets: [Int64: Set<Int64>] = [:]
    private var nextSessionID: Int64

    /// - Parameter serverID: the high byte of every session id (Apache: `sid << 56`).
    init(tickTime: Int, serverID: Int64 = 0, now: Int64) {
        self.tickTime = Int64(max(tickTime, 1))
        // Apache's initializeNextSessionId: the time in ms shifted left 24 then right 8, tagged with the server id.
        let base = Int64(bitPattern: (UInt64(bitPattern: now) << 24) >> 8)
        nextSessionID = base | (serverID << 56)
    }

    /// Rounds up to the next tick boundary, as Apache's ExpiryQueue does.
    private func roundToTick(_ time: Int64) -> Int64 { (time / tickTime + 1) * tickTime }

    mutating func allocateSessionID() -> Int64 {
        defer { nextSessionID += 1 }
        return nextSessionID
    }

    /// Adds (or re-adds, during recovery) a session.
    mutating func add(id: Int64, timeout: Int32, now: Int64) {
        if sessions[id] != nil { remove(id) }
        let expiresAt = roundToTick(now + Int64(timeout))
        sessions[id] = ServerSession(id: id, timeout: timeout, expiresAt: expiresAt)
        buckets[expiresAt, default: []].insert(id)
        if id >= nextSessionID && id >> 56 == nextSessionID >> 56 { nextSessionID = id + 1 }
    }

    /// Extends the session's life (every request and ping does). False if unknown or closing.
    @discardableResult
    mutating func touch(_ id: Int64, now: Int64) -> Bool {
        guard var session = sessions[id], !session.isClosing else { return false }
        let expiresAt = roundToTick(now + Int64(session.timeout))
        guard expiresAt > session.expiresAt else { return true }
        buckets[session.expiresAt]?.remove(id)
        if buckets[session.expiresAt]?.isEmpty == true { buckets[session.expiresAt] = nil }
        session.expiresAt = expiresAt
        sessions[id] = session
        buckets[expiresAt, default: []].insert(id)
        return true
    }

    mutating func setConnection(_ id: Int64, _ connection: UInt64?) {
        sessions[id]?.connectionID = connection
    }

    mutating func markClosing(_ id: Int64) {
        sessions[id]?.isClosing = true
    }

    mutating func remove(_ id: Int64) {
        guard let session = sessions.removeValue(forKey: id) else { return }
        buckets[session.expiresAt]?.remove(id)
        if buckets[session.expiresAt]?.isEmpty == true { buckets[session.expiresAt] = nil }
    }

    /// Sessions whose expiry time has passed, marked closing so they are expired once.
    mutating func expired(now: Int64) -> [Int64] {
        var due: [Int64] = []
        for time in buckets.keys where time <= now {
            for id in buckets.removeValue(forKey: time) ?? [] where sessions[id]?.isClosing == false {
                due.append(id)
                sessions[id]?.isClosing = true
            }
        }
        return due.sorted()
    }

    /// When the next bucket is due (for the pipeline's wait), if any.
    var nextExpiry: Int64? { buckets.keys.min() }

    /// Sessions grouped by expiry time, for `dump`.
    var byExpiry: [(time: Int64, sessions: [Int64])] {
        buckets.keys.sorted().map { ($0, buckets[$0]!.sorted()) }
    }
}
