import Synchronization
import ZooKeeperClient

/// Curator's `delete().guaranteed()`: delete a node, retrying connection loss until the node is gone or
/// the session is (which deletes an ephemeral anyway).
///
/// The delete runs in a task of its own, so a cancelled caller still gets its node removed. The caller
/// waits for it — but never past the point where waiting is useless or forbidden: its own cancellation,
/// the session being presumed expired or lost (an ephemeral then goes with the session, and the server
/// may already have expired it), or `waitUntil`. The delete itself carries on in the background, bounded
/// by the session's life, and is counted in ``RecipeCleanup/pendingDeletes``.
enum GuaranteedDelete {
    /// How long past a caller's deadline cleanup may still be waited for: a healthy server answers a
    /// delete in a round trip; a blackholed one must not hold the caller much beyond its timeout.
    static let graceAfterDeadline = Duration.milliseconds(500)

    /// The instant to wait for cleanup until, for a caller with `deadline`.
    static func bound(after deadline: ContinuousClock.Instant?) -> ContinuousClock.Instant? {
        deadline.map { max($0, .now) + graceAfterDeadline }
    }

    static func run(client: ZooKeeperClient, path: ZNodePath, waitUntil bound: ContinuousClock.Instant? = nil) async {
        await inBackground(client: client, waitUntil: bound, what: path.string) {
            try await deleteRetrying(client: client, path: path)
        }
    }

    /// Deletes `path`, retrying retryable errors while the session lives; `noNode` counts as done.
    static func deleteRetrying(client: ZooKeeperClient, path: ZNodePath) async throws {
        do {
            try await retrying(.forever, client) { try await client.delete(path) }
        } catch let error as ZooKeeperError where error.code == .noNode || error.isSessionTerminal || error.isRecipeRetryable {
            // Already gone; the session is over (its ephemerals with it); or the client is lost.
            client.configuration.logHandler.log(.debug, "delete of \(path): \(error.code) (\(client.connectionState))")
        }
    }

    /// Runs `cleanup` in a detached task (ended by the session's end at the latest) and waits for it as
    /// described in the type's notes; a cancelled caller waits at most ``graceAfterDeadline`` more (a
    /// healthy server finishes the cleanup in that time, so nothing is left behind). Returns whether the
    /// cleanup finished while waited for.
    @discardableResult
    static func inBackground(
        client: ZooKeeperClient, waitUntil bound: ContinuousClock.Instant?, what: String,
        _ cleanup: @escaping @Sendable () async throws -> Void
    ) async -> Bool {
        let waiter = CleanupWaiter()
        RecipeCleanup.pending.add(1, ordering: .relaxed)
        Task.detached {
            defer {
                RecipeCleanup.pending.subtract(1, ordering: .relaxed)
                waiter.resume(true)
            }
            do {
                try await cleanup()
                client.configuration.logHandler.log(.debug, "cleanup of \(what) done")
            } catch {
                client.configuration.logHandler.log(.warning, "cleanup of \(what) failed: \(error)")
            }
        }
        // The other ways the wait ends; unstructured so the caller's cancellation does not end them early.
        let states = client.connectionStates()
        let watchers = [
            Task {
                for await state in states {
                    if state == .presumedExpired { break }
                    if case .lost = state { break }
                }
                waiter.resume(false)
            },
            Task {
                guard let bound else { return }
                try await Task.sleep(until: bound, clock: .continuous)
                waiter.resume(false)
            },
        ]
        let completed = await withTaskCancellationHandler {
            await waiter.wait()
        } onCancel: {
            Task {
                try await Task.sleep(for: graceAfterDeadline)
                waiter.resume(false)
            }
        }
        for watcher in watchers { watcher.cancel() }
        if !completed {
            client.configuration.logHandler.log(.info, "cleanup of \(what) continues in the background")
        }
        return completed
    }
}

/// One waiter, resumed once by whichever comes first (the cleanup, a state, a deadline, a grace).
private final class CleanupWaiter: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Bool, Never>?, result: Bool?)>((nil, nil))

    func wait() async -> Bool {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool? in
                if let result = state.result { return result }
                state.continuation = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    func resume(_ value: Bool) {
        let continuation = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard state.result == nil else { return nil }
            state.result = value
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(returning: value)
    }
}

/// Observability of the recipes' background cleanup.
public enum RecipeCleanup {
    static let pending = Atomic<Int>(0)

    /// Guaranteed deletes (of lock, lease, latch, queue-claim nodes) still running in the background in
    /// this process: started by a caller that stopped waiting (cancelled, timed out, or the session
    /// presumed expired while no server answered). Each ends when its node or its session is gone.
    public static var pendingDeletes: Int { pending.load(ordering: .relaxed) }
}
