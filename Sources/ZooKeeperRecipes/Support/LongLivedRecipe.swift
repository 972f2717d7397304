import Synchronization

/// A recipe that runs in the background between ``start()`` and ``close()``: `LeaderLatch`, `LeaderSelector`,
/// `TreeCache`, `NodeCache`, `SharedCount`, `PersistentNode`, `GroupMember`, `ServiceDiscovery` and
/// `ServiceCache` (see "Conventions" in `recipes-docs/README.md`).
///
/// - ``start()`` may be called once: a second call throws ``RecipeLifecycleError/alreadyStarted`` and a call
///   after ``close()`` throws ``RecipeLifecycleError/closed``.
/// - ``close()`` may be called any number of times, before or after ``start()``; every call returns only once
///   the recipe's background tasks have ended, and it finishes every change stream.
/// - ``withStarted(_:)`` scopes the two: start, run a body, close.
public protocol LongLivedRecipe: Sendable {
    /// Starts the recipe's background work. Once only.
    func start() async throws
    /// Stops the recipe, releases what it holds, and waits until its background tasks have ended. Idempotent.
    func close() async
}

extension LongLivedRecipe {
    /// Starts the recipe, runs `body` with it, and closes it — whether `body` returns or throws, and also
    /// when the task is cancelled (closing runs in a task of its own, so cancellation cannot cut it short).
    ///
    /// ```swift
    /// try await LeaderLatch(client: zk, path: "/election/scheduler").withStarted { latch in
    ///     try await latch.waitForLeadership(timeout: .seconds(30))
    ///     …
    /// }
    /// ```
    /// - Throws: what ``start()`` or `body` throws. The recipe is closed either way — except when `start()`
    ///   throws a ``RecipeLifecycleError`` (it was started elsewhere, or is closed already): then it is left
    ///   as it is.
    public func withStarted<T: Sendable>(_ body: (Self) async throws -> T) async throws -> T {
        // Closing runs in a task of its own: a cancelled caller still closes completely.
        let close = { await Task { await self.close() }.value }
        do {
            try await start()
        } catch let error as RecipeLifecycleError {
            throw error  // started elsewhere, or closed already: not ours to close
        } catch {
            await close()  // a start that failed part-way may hold something
            throw error
        }
        let result: Result<T, any Error>
        do {
            result = .success(try await body(self))
        } catch {
            result = .failure(error)
        }
        await close()
        return try result.get()
    }
}

/// Misuse of a ``LongLivedRecipe``'s lifecycle, and the end of a wait because the recipe ended.
public enum RecipeLifecycleError: Error, Sendable, Hashable {
    /// `start()` was called a second time.
    case alreadyStarted
    /// `start()` was called after `close()`, or a `waitFor…` call ended because the recipe closed (or its
    /// session was lost) before what it waited for happened.
    case closed
}

/// A recipe's lifecycle phase, kept inside its `Mutex`-protected state.
struct RecipeLifecycle: Sendable {
    private(set) var started = false
    private(set) var closed = false

    /// Moves to started, or throws the misuse.
    mutating func start() throws {
        guard !closed else { throw RecipeLifecycleError.closed }
        guard !started else { throw RecipeLifecycleError.alreadyStarted }
        started = true
    }

    /// Moves to closed; whether this was the first close.
    @discardableResult
    mutating func close() -> Bool {
        defer { closed = true }
        return !closed
    }
}

/// Runs a recipe's teardown once; every ``run(_:)`` call waits until it has finished.
///
/// The teardown runs in a task of its own: a caller that is cancelled (or a second caller) still waits for
/// the one teardown, and the teardown itself is not cancelled.
final class CloseOnce: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)

    func run(_ teardown: @escaping @Sendable () async -> Void) async {
        let task = self.task.withLock { task -> Task<Void, Never> in
            if let task { return task }
            let new = Task { await teardown() }
            task = new
            return new
        }
        await task.value
    }
}

/// Waiting on a change stream: the `waitFor…` methods.
enum RecipeWait {
    private enum Outcome: Sendable { case satisfied, ended, timedOut }

    /// Waits until `stream` yields an element satisfying `condition`; returns at once if `satisfiedNow` (so
    /// that a zero timeout cannot win the race against a condition that already holds).
    ///
    /// - Throws: `timedOut` when `timeout` passes first; ``RecipeLifecycleError/closed`` when the stream
    ///   finishes first (the recipe closed or its session ended); `CancellationError` when the task is cancelled.
    static func until<Element: Sendable>(
        _ stream: AsyncStream<Element>, timeout: Duration?, timedOut: any Error, satisfiedNow: Bool,
        _ condition: @escaping @Sendable (Element) -> Bool
    ) async throws {
        if satisfiedNow { return }
        let outcome = try await withThrowingTaskGroup(of: Outcome.self) { group in
            group.addTask {
                for await element in stream where condition(element) { return .satisfied }
                return .ended
            }
            if let timeout {
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return .timedOut
                }
            }
            defer { group.cancelAll() }
            return try await group.next() ?? .ended
        }
        switch outcome {
        case .satisfied: return
        case .timedOut: throw timedOut
        case .ended:
            try Task.checkCancellation()
            throw RecipeLifecycleError.closed
        }
    }
}

/// The state of a recipe whose `start()` work runs in a task that a concurrent `close()` can find, stop
/// and wait for (TreeCache, SharedCount, ServiceCache).
protocol TracksStart {
    var lifecycle: RecipeLifecycle { get set }
    var starting: Task<Void, any Error>? { get set }
}

extension Mutex where Value: TracksStart {
    /// Runs `work` as the recipe's start: the task is created and stored under the lock together with the
    /// lifecycle step, so `close()` finds it (see ``stopStart()``). A start that `close()` interrupted throws
    /// ``RecipeLifecycleError/closed``; cancelling the caller cancels the work.
    func runStart(_ work: @escaping @Sendable () async throws -> Void) async throws {
        let starting = try withLock { state in
            try state.lifecycle.start()
            let starting = Task { try await work() }
            state.starting = starting
            return starting
        }
        do {
            try await withTaskCancellationHandler { try await starting.value } onCancel: { starting.cancel() }
        } catch {
            if !Task.isCancelled, withLock({ $0.lifecycle.closed }) { throw RecipeLifecycleError.closed }
            throw error
        }
    }

    /// For `close()`: stops a start still in progress and waits until it has stored (and ended) the tasks
    /// it started.
    func stopStart() async {
        guard let starting = withLock({ $0.starting }) else { return }
        starting.cancel()
        _ = await starting.result
    }
}
