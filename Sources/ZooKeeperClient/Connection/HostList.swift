import ZooKeeperProtocol

/// The ensemble in connection order: shuffled once, tried round-robin, with a backoff after each full cycle.
struct HostList: Sendable {
    let hosts: [ServerAddress]
    private var index = -1
    private var failuresInCycle = 0
    private var cycleBackoff: Duration = .zero
    /// Hosts that accepted TCP but closed before the handshake, since the last successful handshake.
    private(set) var refusedSinceLastSession: Set<ServerAddress> = []
    /// Hosts that refused our session while granting a fresh one (a probe) — the evidence that they have
    /// seen fewer transactions than the session, not that they are electing, loading or throttling.
    private(set) var behindSinceLastSession: Set<ServerAddress> = []

    init(_ hosts: [ServerAddress], shuffle: Bool) {
        var generator = SystemRandomNumberGenerator()
        self.hosts = shuffle ? hosts.shuffled(using: &generator) : hosts
    }

    /// The next host, and how long to wait before trying it (zero inside a cycle).
    /// A host to try next, out of turn (a read-write server found while on a read-only one).
    private var preferred: ServerAddress?

    mutating func prefer(_ host: ServerAddress) { preferred = host }

    mutating func next() -> (host: ServerAddress, delay: Duration) {
        if let host = preferred {
            preferred = nil
            return (host, .zero)
        }
        index = (index + 1) % hosts.count
        var delay = Duration.zero
        if index == 0 && failuresInCycle >= hosts.count {
            // A whole cycle failed: back off (50 ms doubling to 1 s, with jitter) before the next one.
            cycleBackoff = cycleBackoff == .zero ? .milliseconds(50) : min(cycleBackoff * 2, .seconds(1))
            delay = cycleBackoff * Double.random(in: 0.5...1.0)
        }
        if index == 0 { failuresInCycle = 0 }
        return (hosts[index], delay)
    }

    mutating func noteFailure() { failuresInCycle += 1 }

    /// The host accepted the connection then closed it before answering the handshake.
    mutating func noteRefused(_ host: ServerAddress) {
        failuresInCycle += 1
        refusedSinceLastSession.insert(host)
    }

    /// The host refused our session but served a fresh one.
    mutating func noteBehind(_ host: ServerAddress) { behindSinceLastSession.insert(host) }

    mutating func noteConnected() {
        failuresInCycle = 0
        cycleBackoff = .zero
        refusedSinceLastSession = []
        behindSinceLastSession = []
    }

    /// Whether every host has refused the session since the last handshake.
    var everyHostRefused: Bool { refusedSinceLastSession.count == Set(hosts).count }

    /// Whether every host has shown that it is behind the session (see ``behindSinceLastSession``).
    var everyHostBehind: Bool { behindSinceLastSession.count == Set(hosts).count }
}
