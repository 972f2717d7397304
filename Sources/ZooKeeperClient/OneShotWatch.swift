import Synchronization

/// A one-shot watch armed by a read (`getDataWatching`, `existsWatching`, `getChildrenWatching`).
///
/// Notable behaviours:
/// - The watch is registered on the I/O thread *before* the read's reply reaches the caller, so an
///   event for a change after the read can never be missed, and it is delivered before any later reply.
/// - It survives reconnects: the client re-registers it with `SetWatches` and the server replays
///   a change it missed while disconnected.
/// - It fires at most once. If the session ends first, ``event()`` throws the session's error.
public struct OneShotWatch: Sendable {
    let box: OneShotWatchBox

    /// Waits for the event. Cancelling the waiting task stops the wait; the watch stays armed.
    /// - Throws: ``ZooKeeperError`` (`.sessionExpired`, `.clientClosed`, …) if the session ends first,
    ///   or `CancellationError`.
    public func event() async throws -> WatchedEvent {
        try await box.wait()
    }

    /// The event, if it has already fired.
    public var firedEvent: WatchedEvent? { box.firedEvent }
}

/// Shared state of one one-shot watch: fired once, awaited by any number of tasks.
final class OneShotWatchBox: Sendable {
    private enum State {
        case armed([UInt64: CheckedContinuation<WatchedEvent, any Error>])
        case fired(WatchedEvent)
        case failed(ZooKeeperError)
    }

    private let state = Mutex(State.armed([:]))
    private let nextWaiter = Atomic<UInt64>(0)
    private let abandonedFlag = Atomic<Bool>(false)

    /// Its read was cancelled before the reply: nobody can wait on it, so the registry must not keep it.
    var isAbandoned: Bool { abandonedFlag.load(ordering: .acquiring) }

    func abandon() { abandonedFlag.store(true, ordering: .releasing) }

    var firedEvent: WatchedEvent? {
        state.withLock { state in
            if case let .fired(event) = state { return event }
            return nil
        }
    }

    func fire(_ event: WatchedEvent) {
        let waiters = state.withLock { state -> [CheckedContinuation<WatchedEvent, any Error>] in
            guard case let .armed(waiters) = state else { return [] }
            state = .fired(event)
            return Array(waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: event) }
    }

    func fail(_ error: ZooKeeperError) {
        let waiters = state.withLock { state -> [CheckedContinuation<WatchedEvent, any Error>] in
            guard case let .armed(waiters) = state else { return [] }
            state = .failed(error)
            return Array(waiters.values)
        }
        for waiter in waiters { waiter.resume(throwing: error) }
    }

    func wait() async throws -> WatchedEvent {
        let id = nextWaiter.add(1, ordering: .relaxed).newValue
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                enum Outcome { case wait, event(WatchedEvent), error(any Error) }
                let outcome = state.withLock { state -> Outcome in
                    switch state {
                    case let .fired(event): return .event(event)
                    case let .failed(error): return .error(error)
                    case var .armed(waiters):
                        if Task.isCancelled { return .error(CancellationError()) }
                        waiters[id] = continuation
                        state = .armed(waiters)
                        return .wait
                    }
                }
                switch outcome {
                case .wait: break
                case let .event(event): continuation.resume(returning: event)
                case let .error(error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<WatchedEvent, any Error>? in
                guard case var .armed(waiters) = state else { return nil }
                let waiter = waiters.removeValue(forKey: id)
                state = .armed(waiters)
                return waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
