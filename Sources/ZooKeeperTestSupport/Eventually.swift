/// A bounded wait ran out: what was awaited and for how long.
public struct TimeoutError: Error, CustomStringConvertible, Sendable {
    public let duration: Duration
    public let what: String
    public init(duration: Duration, what: String) {
        self.duration = duration
        self.what = what
    }
    public var description: String { "timed out after \(duration): \(what)" }
}

/// Polls `condition` until it returns true, throwing ``TimeoutError`` if it is still false after
/// `within`. The condition is evaluated at least once, and once more at the deadline.
///
/// This waits for an observable state with a deadline; it is not sleep-as-synchronisation. Prefer
/// awaiting an event (a watch, a state stream) when the code under test offers one.
public func eventually(
    within timeout: Duration,
    pollEvery interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool,
    fileID: String = #fileID,
    line: Int = #line
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
        if try await condition() { return }
        let now = clock.now
        if now >= deadline {
            throw TimeoutError(duration: timeout, what: "condition at \(fileID):\(line) never became true")
        }
        try await Task.sleep(until: min(now + interval, deadline), clock: clock)
    }
}

/// Runs `body`, throwing ``TimeoutError`` if it has not finished within `duration`.
///
/// The body runs in a child task raced against a timer; on timeout the body is cancelled and
/// `withTimeout` returns as soon as the body honours cancellation (a body that ignores
/// cancellation delays the throw until it ends, as structured concurrency requires).
public func withTimeout<T: Sendable>(
    _ duration: Duration,
    _ body: @escaping @Sendable () async throws -> T,
    fileID: String = #fileID,
    line: Int = #line
) async throws -> T {
    let what = "operation at \(fileID):\(line)"
    return try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: duration)
            throw TimeoutError(duration: duration, what: what)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else {
            throw TimeoutError(duration: duration, what: what)  // unreachable: two tasks were added
        }
        return first
    }
}

/// An observation window for something that must NOT happen: returns whether `happened` stayed false for
/// the whole of `window` (polled). Not a synchronisation: nothing waits for an event here, the window is
/// the claim itself ("no reply crosses a stalled link for this long").
public func neverHappens(
    within window: Duration, pollEvery interval: Duration = .milliseconds(20), _ happened: () -> Bool
) async -> Bool {
    let clock = ContinuousClock()
    let end = clock.now + window
    while clock.now < end {
        if happened() { return false }
        try? await Task.sleep(until: min(clock.now + interval, end), clock: clock)
    }
    return !happened()
}
