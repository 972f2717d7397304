public import ZooKeeperClient

/// How a recipe retries an operation whose outcome is unknown (connection loss, operation timeout).
///
/// The delay before retry *n* (0-based) is `baseDelay · random(1 ... 2^(n+1))`, capped at `maxDelay`
/// (Curator's `ExponentialBackoffRetry` / `BoundedExponentialBackoffRetry`). Retrying stops after
/// `maxRetries` retries or once `maxElapsed` has passed since the first attempt, whichever comes first.
///
/// Notable behaviours:
/// - Only retryable errors are retried (``ZooKeeperError/isRetryable``: connection loss, operation
///   timeout, session moved, …). Session expiry, authentication failure and a closed client are
///   *never* retried or masked: they end the session, so retrying could only hide the loss.
/// - While the client is disconnected its requests wait for the reconnection, so a retry does not spin.
public struct RetryPolicy: Sendable, Hashable {
    /// How many retries after the first attempt; `nil` for no limit.
    public var maxRetries: Int?
    /// The longest total time spent retrying; `nil` for no limit.
    public var maxElapsed: Duration?
    /// The unit of the exponential backoff.
    public var baseDelay: Duration
    /// The cap of one backoff delay.
    public var maxDelay: Duration
    /// The retry from which the backoff stops growing: later retries draw their delay from this retry's
    /// range (keeping the jitter of a long retry run); `nil` lets it grow until every draw is `maxDelay`.
    public var backoffGrowthLimit: Int?

    /// - Parameters:
    ///   - maxRetries: how many retries after the first attempt; `nil` for no limit.
    ///   - maxElapsed: the longest total time spent retrying; `nil` for no limit.
    ///   - baseDelay: the unit of the exponential backoff.
    ///   - maxDelay: the cap of one backoff delay.
    ///   - backoffGrowthLimit: see ``backoffGrowthLimit``.
    public init(
        maxRetries: Int?, maxElapsed: Duration? = nil, baseDelay: Duration, maxDelay: Duration,
        backoffGrowthLimit: Int? = nil
    ) {
        self.maxRetries = maxRetries.map { max(0, $0) }
        self.maxElapsed = maxElapsed
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.backoffGrowthLimit = backoffGrowthLimit.map { max(0, $0) }
    }

    /// Exponential backoff with jitter, bounded retries (Curator's `ExponentialBackoffRetry`; at most 29
    /// doublings).
    public static func exponentialBackoff(
        baseDelay: Duration = .milliseconds(50), maxDelay: Duration = .seconds(2), maxRetries: Int = 10
    ) -> RetryPolicy {
        RetryPolicy(maxRetries: maxRetries, baseDelay: baseDelay, maxDelay: maxDelay)
    }

    /// A fixed delay between at most `count` retries (Curator's `RetryNTimes`).
    public static func boundedTimes(_ count: Int, delay: Duration = .milliseconds(100)) -> RetryPolicy {
        RetryPolicy(maxRetries: count, baseDelay: delay, maxDelay: delay)
    }

    /// Exponential backoff until `elapsed` has passed (Curator's `RetryUntilElapsed`).
    public static func untilElapsed(
        _ elapsed: Duration, baseDelay: Duration = .milliseconds(50), maxDelay: Duration = .seconds(2)
    ) -> RetryPolicy {
        RetryPolicy(maxRetries: nil, maxElapsed: elapsed, baseDelay: baseDelay, maxDelay: maxDelay)
    }

    /// Retries as long as the session lives: what guaranteed cleanup (delete of one's own node) uses.
    public static let forever = RetryPolicy(maxRetries: nil, baseDelay: .milliseconds(20), maxDelay: .seconds(1))

    /// The recipes' default: exponential backoff from 50 ms, capped at 2 s, for at most 10 retries.
    public static let standard = RetryPolicy.exponentialBackoff()

    /// The (jittered) delay before retry `retry` (0 for the first retry).
    public func delay(beforeRetry retry: Int) -> Duration {
        let step = backoffGrowthLimit.map { min(retry, $0) } ?? retry
        let exponent = min(max(step, 0) + 1, 29)
        let factor = Int64.random(in: 1...(Int64(1) << exponent))
        let base = baseDelay.attoseconds
        // Saturate instead of overflowing: anything past the cap is the cap.
        let (product, overflow) = base.multipliedReportingOverflow(by: Int128(factor))
        let cap = maxDelay.attoseconds
        let chosen = overflow || product > cap ? cap : product
        return Duration(attoseconds: max(chosen, 0))
    }

    /// Whether another retry is allowed after `retries` retries and `elapsed` time.
    public func allowsRetry(after retries: Int, elapsed: Duration) -> Bool {
        if let maxRetries, retries >= maxRetries { return false }
        if let maxElapsed, elapsed >= maxElapsed { return false }
        return true
    }
}

extension RetryPolicy {
    /// This policy's backoff without its retry and time limits, growing for at most `growthLimit`
    /// retries: for a call that must be retried until it is answered or the session is over (the
    /// ``retrying(_:_:isolation:_:)`` helper stops when the client's connection is lost).
    func untilSessionEnds(backoffGrowthLimit growthLimit: Int) -> RetryPolicy {
        RetryPolicy(maxRetries: nil, baseDelay: baseDelay, maxDelay: maxDelay, backoffGrowthLimit: growthLimit)
    }

    /// The upkeep of one's own node (watching it, deleting it after a lost lease): ``forever``'s backoff,
    /// growing for 5 retries, as long as the session lives.
    static let sessionUpkeep = RetryPolicy.forever.untilSessionEnds(backoffGrowthLimit: 5)
}

extension ConnectionState {
    /// Whether the session is over for good (``ConnectionState/lost(_:)``): nothing is worth retrying.
    var isLost: Bool {
        if case .lost = self { return true }
        return false
    }
}

extension ZooKeeperError {
    /// Whether a recipe may retry after this error (Curator's rule); see ``RetryPolicy``.
    var isRecipeRetryable: Bool { isRetryable && !isSessionTerminal }
}

/// Runs `operation`, retrying it under `policy` when it fails with a retryable ``ZooKeeperError``.
///
/// The recipes' one retry loop: every retry of connection loss goes through it. A call that must be
/// retried for as long as the session lives uses a policy without limits (``RetryPolicy/forever``, or
/// one with `maxRetries` and `maxElapsed` `nil`): it then ends with an answer, a non-retryable error, the
/// connection being lost for good, or cancellation. A deadline that must also cut short an in-flight
/// request is the caller's (a task group racing a sleep), not the policy's.
///
/// - Throws: the last error once the policy gives up; any non-retryable error at once (session expiry,
///   a closed client, `noNode`, …); `CancellationError` if the calling task is cancelled.
public func retrying<T>(
    _ policy: RetryPolicy,
    _ client: ZooKeeperClient,
    isolation: isolated (any Actor)? = #isolation,
    _ operation: () async throws -> T
) async throws -> T {
    let clock = ContinuousClock()
    let start = clock.now
    var retries = 0
    while true {
        do {
            return try await operation()
        } catch let error as ZooKeeperError where error.isRecipeRetryable {
            guard policy.allowsRetry(after: retries, elapsed: clock.now - start) else { throw error }
            if client.connectionState.isLost { throw error }
            var delay = policy.delay(beforeRetry: retries)
            if let maxElapsed = policy.maxElapsed { delay = min(delay, max(.zero, maxElapsed - (clock.now - start))) }
            try await Task.sleep(for: delay)
            retries += 1
        }
    }
}
