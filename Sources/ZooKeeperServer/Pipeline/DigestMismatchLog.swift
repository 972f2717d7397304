/// How a member reports digest mismatches in its log, as Apache 3.8's `DataTree` does: an error with the
/// details of the first mismatch, then its `RateLogger` (15-minute interval) warning "Digests are not
/// matching. Value is Zxid." once at the start of each interval, and a "[N times]" summary when it ends.
/// Pure: fed the tree's statistics and the monotonic time in milliseconds, it returns what to log.
struct DigestMismatchLog: Sendable {
    enum Line: Sendable, Equatable {
        case error(String)
        case warning(String)
    }

    /// `DataTree.RATE_LOGGER`'s interval.
    static let interval: Int64 = 15 * 60 * 1000
    static let message = "Digests are not matching. Value is Zxid."

    /// Mismatches already reported.
    private var reported: Int64 = 0
    private var loggedFirst = false
    /// The current interval's start, and the mismatches counted in it after its first.
    private var windowStart: Int64?
    private var count = 0

    init() {}

    /// The lines to log for the mismatches counted since the last call (none when there are none).
    mutating func report(_ statistics: DigestStatistics, now: Int64) -> [Line] {
        let new = statistics.mismatches - reported
        guard new > 0, let mismatch = statistics.lastMismatch else { return [] }
        reported = statistics.mismatches
        let zxid = "0x" + String(mismatch.zxid, radix: 16)
        var lines: [Line] = []
        if !loggedFirst {
            loggedFirst = true
            lines.append(.error("First digest mismatch on txn \(zxid), expected digest is \(mismatch.expected), actual digest is \(mismatch.actual)"))
        }
        guard let start = windowStart else {
            windowStart = now
            count = Int(new - 1)
            lines.append(.warning("Message:\(Self.message) Value:\(mismatch.zxid)"))
            return lines
        }
        count += Int(new)
        if now - start >= Self.interval {
            lines.append(.warning((count > 1 ? "[\(count) times] " : "") + "Message: \(Self.message) Last value:\(mismatch.zxid)"))
            windowStart = now
            count = 0
        }
        return lines
    }
}
