/// The client's timing rules, as a pure state machine: the I/O driver feeds it events with the current
/// instant and performs the actions it returns; ``nextDeadline`` tells the driver how long it may block.
///
/// The rule that makes locks safe: a server may expire the session as soon as the negotiated timeout has
/// passed since it last *heard from us*. We never know that instant, but every reply proves a lower bound
/// (a reply to a request enqueued at `t`, or a ping sent at `t`, means the server received something from
/// us at or after `t`; watch notifications prove nothing). So the server cannot expire the session before
/// `proof + timeout`, and the client publishes `.presumedExpired` at `proof + timeout − margin` — on its own
/// timer, whatever the connector is doing — so that lock and leadership bodies end before the ensemble can
/// hand their node to someone else. Apache's expiry is also rounded *up* to the next tick, which only adds
/// slack; the margin covers our own timer's lateness and the time a recipe takes to cancel its body.
///
/// Generic over the instant so tests drive it with a manual clock.
struct ConnectionStateMachine<Instant: InstantProtocol & Sendable>: Sendable where Instant.Duration == Duration {
    enum Phase: Equatable, Sendable {
        /// Between attempts (or before the first).
        case disconnected
        /// A TCP connect plus handshake is under way; it is abandoned at `deadline`.
        case connecting(deadline: Instant)
        /// A session is established on a live connection.
        case connected
    }

    enum Action: Equatable, Sendable {
        /// Nothing was sent for the ping interval: send a ping.
        case sendPing
        /// Give up the current connection (read timeout, or no proof of contact in time).
        case dropConnection(String)
        /// Give up the connect attempt under way (its deadline passed).
        case abandonAttempt
        /// Publish `.presumedExpired`: the server may expire the session from now on.
        case publishPresumedExpired
        /// Connected to a read-only server: ask another server whether it is read-write (`isro`).
        case probeForReadWriteServer
    }

    /// The first and the largest pause between `isro` probes while on a read-only server (the Java
    /// client's `minPingRwTimeout` / `maxPingRwTimeout`).
    static var firstProbeDelay: Duration { .milliseconds(100) }
    static var longestProbeDelay: Duration { .seconds(60) }

    /// `margin` as configured (nil: ``defaultMargin(for:)``).
    let configuredMargin: Duration?

    private(set) var phase = Phase.disconnected
    /// The negotiated session timeout of the current session, once a server has answered a handshake.
    private(set) var sessionTimeout: Duration?
    /// The latest instant at (or after) which a server is known to have heard from us for this session.
    private(set) var proof: Instant?
    /// When the current connection last received any bytes (the read timeout's reference).
    private(set) var lastReceive: Instant?
    /// When the current connection last sent anything (the ping timer's reference).
    private(set) var lastSend: Instant?
    /// Whether `.presumedExpired` was published since the last handshake.
    private(set) var presumedExpired = false
    /// When the connect request of the attempt under way was sent: the proof a handshake reply brings.
    private var handshakeSentAt: Instant?
    /// When the current connection's session was established: every request on it was sent after this.
    private(set) var connectedAt: Instant?
    /// On a read-only server: when to probe for a read-write one next (nil: not read-only, or a probe is out).
    private(set) var nextProbe: Instant?
    private var probeDelay = Self.firstProbeDelay

    init(margin: Duration? = nil) { configuredMargin = margin }

    /// The default margin: a tenth of the session timeout, at least 100 ms, at most a third of it (so the
    /// read timeout, at two thirds, still comes first).
    static func defaultMargin(for timeout: Duration) -> Duration {
        min(max(timeout / 10, .milliseconds(100)), timeout / 3)
    }

    var margin: Duration? {
        guard let sessionTimeout else { return nil }
        return min(configuredMargin ?? Self.defaultMargin(for: sessionTimeout), sessionTimeout)
    }

    /// A silent server is dead after two thirds of the session timeout (the Java client's rule).
    var readTimeout: Duration? { sessionTimeout.map { $0 * 2 / 3 } }

    /// Ping when nothing was sent for half the read timeout, at most every 10 s.
    var pingInterval: Duration? { readTimeout.map { min($0 / 2, .seconds(10)) } }

    /// The instant from which the session must be presumed expired.
    var presumedExpiryDeadline: Instant? {
        guard let proof, let sessionTimeout, let margin else { return nil }
        return proof.advanced(by: sessionTimeout - margin)
    }

    // MARK: - Events

    /// A connect attempt starts; it must finish (TCP connect plus handshake) within `timeout`.
    mutating func attemptStarted(now: Instant, timeout: Duration) {
        phase = .connecting(deadline: now.advanced(by: timeout))
        handshakeSentAt = nil
    }

    /// The connect request left.
    mutating func handshakeSent(now: Instant) { handshakeSentAt = now }

    /// The server answered the handshake with a live session.
    mutating func sessionEstablished(now: Instant, timeout: Duration, readOnly: Bool = false) {
        phase = .connected
        probeDelay = Self.firstProbeDelay
        nextProbe = readOnly ? now.advanced(by: probeDelay) : nil
        sessionTimeout = timeout
        presumedExpired = false
        note(proof: handshakeSentAt ?? now)
        connectedAt = handshakeSentAt ?? now
        lastReceive = now
        lastSend = now
    }

    /// Bytes arrived on the connection.
    mutating func received(now: Instant) { lastReceive = now }

    /// Bytes left on the connection.
    mutating func sent(now: Instant) { lastSend = now }

    /// A reply proved that a server heard from us at or after `instant`. A request that waited in the
    /// queue while disconnected was sent on this connection, so after it was established.
    mutating func note(proof instant: Instant) {
        let bounded = connectedAt.map { max($0, instant) } ?? instant
        if proof.map({ bounded > $0 }) ?? true { proof = bounded }
    }

    /// A read-write probe came back without finding one: probe again after twice the pause (at most 60 s).
    mutating func probeFailed(now: Instant) {
        guard phase == .connected else { return }
        probeDelay = min(probeDelay * 2, Self.longestProbeDelay)
        nextProbe = now.advanced(by: probeDelay)
    }

    /// The connection (or the attempt) ended.
    mutating func connectionEnded() {
        phase = .disconnected
        nextProbe = nil
        handshakeSentAt = nil
        connectedAt = nil
        lastReceive = nil
        lastSend = nil
    }

    /// The session is over (expired, closed): nothing more to time.
    mutating func sessionEnded() {
        connectionEnded()
        sessionTimeout = nil
        proof = nil
    }

    /// The timers due at `now`, in the order to perform them.
    mutating func tick(now: Instant) -> [Action] {
        var actions: [Action] = []
        if let deadline = presumedExpiryDeadline, now >= deadline, !presumedExpired {
            if phase == .connected {
                // Connected yet unable to prove contact in time (replies far behind requests): the
                // server may expire us regardless; stop trusting this connection.
                actions.append(.dropConnection("no reply proving the server heard from us within \(sessionTimeout! - margin!)"))
                connectionEnded()
            }
            presumedExpired = true
            actions.append(.publishPresumedExpired)
        }
        switch phase {
        case .disconnected:
            break
        case let .connecting(deadline):
            if now >= deadline {
                actions.append(.abandonAttempt)
                connectionEnded()
            }
        case .connected:
            if let readTimeout, let lastReceive, lastReceive.duration(to: now) > readTimeout {
                actions.append(.dropConnection("no reply from the server for \(lastReceive.duration(to: now)) (read timeout \(readTimeout))"))
                connectionEnded()
            } else if let pingInterval, let lastSend, lastSend.duration(to: now) >= pingInterval {
                actions.append(.sendPing)
                self.lastSend = now
            }
            if phase == .connected, let probe = nextProbe, now >= probe {
                actions.append(.probeForReadWriteServer)
                nextProbe = nil  // until probeFailed(now:)
            }
        }
        return actions
    }

    /// The earliest instant at which ``tick(now:)`` has something to do (nil: nothing is timed).
    var nextDeadline: Instant? {
        var candidates: [Instant] = []
        if let deadline = presumedExpiryDeadline, !presumedExpired { candidates.append(deadline) }
        switch phase {
        case .disconnected:
            break
        case let .connecting(deadline):
            candidates.append(deadline)
        case .connected:
            if let readTimeout, let lastReceive {
                // Strictly after the read timeout (tick compares with `>`).
                candidates.append(lastReceive.advanced(by: readTimeout + .microseconds(1)))
            }
            if let pingInterval, let lastSend { candidates.append(lastSend.advanced(by: pingInterval)) }
            if let nextProbe { candidates.append(nextProbe) }
        }
        return candidates.min()
    }
}
