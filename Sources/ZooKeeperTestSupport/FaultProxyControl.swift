import Dispatch
import Synchronization
import ZooKeeperPOSIX

/// The state a ``FaultProxy``'s control calls share with its relay thread: what to do (stall,
/// delay, reset, stop) and what the thread reports back (connection counts, acknowledgements).
///
/// Control calls are synchronous: each bumps `requested`, wakes the relay thread and waits until
/// the thread has applied that request. So after `stall()` returns, no byte the caller sends
/// afterwards is relayed — a test can stall, then issue a request, without a race.
final class FaultProxyControl: Sendable {
    /// What the relay thread acts on, copied out under the lock once per loop iteration.
    struct Settings: Sendable {
        var stallClientToServer = false
        var stallServerToClient = false
        var delay: Duration = .zero
        var jitter: Duration = .zero
        /// Bumped by every `resetAll()`: the thread resets its connections when it sees a change.
        var resetGeneration = 0
        var stopping = false

        var bothStalled: Bool { stallClientToServer && stallServerToClient }
    }

    private struct State {
        var settings = Settings()
        var requested: UInt64 = 0
        var applied: UInt64 = 0
        var waiters: [(generation: UInt64, semaphore: DispatchSemaphore)] = []
        var loopEnded = false
        var active = 0
        var accepted = 0
        var refusedUpstream = 0
    }

    private let state = Mutex(State())
    let wakeup: WakeupPipe

    init() throws {
        wakeup = try WakeupPipe()
    }

    var activeConnections: Int { state.withLock { $0.active } }
    var acceptedConnections: Int { state.withLock { $0.accepted } }
    var refusedUpstreamConnects: Int { state.withLock { $0.refusedUpstream } }

    /// The relay's connect to the upstream was refused (or failed).
    func noteRefusedUpstream() { state.withLock { $0.refusedUpstream += 1 } }

    /// Applies `change` and waits (bounded) until the relay thread has acted on it.
    func request(_ change: (inout Settings) -> Void) {
        let semaphore = DispatchSemaphore(value: 0)
        let mustWait = state.withLock { state -> Bool in
            change(&state.settings)
            state.requested += 1
            if state.loopEnded { return false }
            state.waiters.append((state.requested, semaphore))
            return true
        }
        guard mustWait else { return }
        wakeup.wake()
        // Bounded so a wedged relay thread fails a test by its assertions, not by hanging it.
        _ = semaphore.wait(timeout: .now() + .seconds(10))
    }

    // MARK: Relay-thread side

    /// The settings to apply in this iteration, and the request generation they cover.
    func snapshot() -> (settings: Settings, generation: UInt64) {
        state.withLock { ($0.settings, $0.requested) }
    }

    /// Called once `generation`'s settings have been applied: publishes the connection counts
    /// and releases the control calls waiting for that generation.
    func acknowledge(generation: UInt64, active: Int, newlyAccepted: Int) {
        let released = state.withLock { state -> [DispatchSemaphore] in
            state.active = active
            state.accepted += newlyAccepted
            state.applied = max(state.applied, generation)
            let applied = state.applied
            let done = state.waiters.filter { $0.generation <= applied }.map(\.semaphore)
            state.waiters.removeAll { $0.generation <= applied }
            return done
        }
        released.forEach { $0.signal() }
    }

    /// The relay thread has ended: nothing will be applied any more, so release every waiter.
    func loopDidEnd() {
        let released = state.withLock { state -> [DispatchSemaphore] in
            state.loopEnded = true
            state.active = 0
            defer { state.waiters.removeAll() }
            return state.waiters.map(\.semaphore)
        }
        released.forEach { $0.signal() }
    }
}
