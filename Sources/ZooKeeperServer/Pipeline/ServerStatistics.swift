import ZooKeeperProtocol

/// Counters behind `srvr`, `stat`, `mntr` and `cons` (Apache's `ServerStats`).
struct ServerStatistics: Sendable {
    var packetsReceived: Int64 = 0
    var packetsSent: Int64 = 0
    var minLatency: Int64 = .max
    var maxLatency: Int64 = 0
    var totalLatency: Int64 = 0
    var latencyCount: Int64 = 0
    /// Sizes of the replies sent, without the length prefix (`ServerStats.clientResponseStats`).
    var responseSizes = BufferStats()

    mutating func recordLatency(_ milliseconds: Int64) {
        minLatency = min(minLatency, milliseconds)
        maxLatency = max(maxLatency, milliseconds)
        totalLatency += milliseconds
        latencyCount += 1
    }

    var averageLatency: Double { latencyCount == 0 ? 0 : Double(totalLatency) / Double(latencyCount) }
    var minLatencyForDisplay: Int64 { latencyCount == 0 ? 0 : minLatency }

    mutating func reset() { self = ServerStatistics() }
}

/// Apache's `BufferStats`: last, smallest and largest size seen; -1 before the first.
struct BufferStats: Sendable {
    var last: Int64 = -1
    var min: Int64 = -1
    var max: Int64 = -1

    mutating func record(_ size: Int64) {
        last = size
        min = min < 0 ? size : Swift.min(min, size)
        max = Swift.max(max, size)
    }
}

/// What the pipeline knows about one connection (for `cons`, `stat`, `wchc`).
struct ConnectionInfo: Sendable {
    let id: UInt64
    /// `host:port` (IPv6 as `[host]:port`).
    let remote: String
    let established: Int64
    /// The address without the port, for `ip` ACLs.
    var remoteHost: String {
        if remote.hasPrefix("["), let close = remote.firstIndex(of: "]") {
            return String(remote[remote.index(after: remote.startIndex)..<close])
        }
        return remote.split(separator: ":").first.map(String.init) ?? remote
    }
    var sessionID: Int64?
    /// Apache's `ServerCnxn.authInfo`: a set, listed in its hash order (``AuthIdSet``).
    private(set) var authIds: [Id] = []
    mutating func addAuthId(_ id: Id) { authIds = AuthIdSet.inserting(id, into: authIds) }
    var received: Int64 = 0
    var sent: Int64 = 0
    var lastOperation = "NA"
    var lastCxid: Int32 = 0
    var lastZxid: Int64 = 0
    var lastResponseTime: Int64 = 0
    var lastLatency: Int64 = 0
    var minLatency: Int64 = .max
    var maxLatency: Int64 = 0
    var totalLatency: Int64 = 0
    var latencyCount: Int64 = 0
}
