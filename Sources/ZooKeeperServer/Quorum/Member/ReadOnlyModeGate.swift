/// When a LOOKING member starts its read-only service (Apache's `QuorumPeer.run`, LOOKING case with
/// `readonlymode.enabled`): a grace period of `max(2 s, tickTime)` after the member began looking, so a
/// quick election does not flap clients through read-only mode; then only if it is still looking.
/// Pure: the driver (``QuorumPeer``) supplies the instants and does the starting and stopping.
struct ReadOnlyModeGate<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    enum Phase: Sendable, Equatable {
        /// In a role, or read-only mode disabled.
        case idle
        /// Looking since `since`, read-only service not started yet.
        case waiting(since: Instant)
        /// Serving read-only clients.
        case serving
    }

    let enabled: Bool
    /// Apache: `Math.max(2000, tickTime)` ms.
    let grace: Duration
    private(set) var phase = Phase.idle

    init(enabled: Bool, tickTime: Duration) {
        self.enabled = enabled
        self.grace = max(.seconds(2), tickTime)
    }

    /// The member entered LOOKING.
    mutating func lookingStarted(at now: Instant) {
        guard enabled else { return }
        if case .serving = phase { return }
        phase = .waiting(since: now)
    }

    /// When to ask ``shouldStart(at:)`` next (nil: nothing to wait for).
    var deadline: Instant? {
        if case let .waiting(since) = phase { return since.advanced(by: grace) }
        return nil
    }

    /// True once, when the grace period has passed while still looking: start the read-only service.
    mutating func shouldStart(at now: Instant) -> Bool {
        guard case let .waiting(since) = phase, since.advanced(by: grace) <= now else { return false }
        phase = .serving
        return true
    }

    /// The election ended (the member leads, follows or observes, or stops). True if the read-only service
    /// ran and must stop, dropping its clients (Apache's `roZk.shutdown()`).
    mutating func lookingEnded() -> Bool {
        defer { phase = .idle }
        return phase == .serving
    }
}
