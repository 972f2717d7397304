import Synchronization

/// Suspends until the calling task is cancelled, then throws `CancellationError`: stands for work
/// that runs until it is stopped (a lock holder's or leader's body), with no timer involved.
public func suspendUntilCancelled() async throws {
    let gate = CancellationGate()
    await withTaskCancellationHandler {
        await withCheckedContinuation { gate.wait($0) }
    } onCancel: {
        gate.cancel()
    }
    throw CancellationError()
}

/// One continuation, resumed by the first cancellation (or at once if that came first).
private final class CancellationGate: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Void, Never>)
        case cancelled
    }
    private let state = Mutex(State.idle)

    func wait(_ continuation: CheckedContinuation<Void, Never>) {
        let resumeNow = state.withLock { state -> Bool in
            if case .cancelled = state { return true }
            state = .waiting(continuation)
            return false
        }
        if resumeNow { continuation.resume() }
    }

    func cancel() {
        let waiting = state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state = .cancelled }
            if case .waiting(let continuation) = state { return continuation }
            return nil
        }
        waiting?.resume()
    }
}
