import Foundation
import Synchronization

/// The worker's side of the stdin channel, and the rule that makes stopping safe: a worker is only
/// cancelled while it is *not* inside the critical section, so every order number it takes is
/// reported (a cancelled holder would leave a gap the parent would count as a failure).
final class WorkerControl: Sendable {
    private struct State {
        var started = false
        var startWaiter: CheckedContinuation<Void, Never>?
        var stopping = false
        var inCritical = false
        var stall = false
        var work: Task<Void, Never>?
    }

    private let state = Mutex(State())

    /// Reads commands from stdin on a thread of its own (blocking reads). EOF = the parent is gone.
    func startReading() {
        let thread = Thread { [self] in
            while let line = readLine() {
                switch line.trimmingCharacters(in: .whitespaces) {
                case "go": start()
                case "stall": state.withLock { $0.stall = true }
                case "stop": stop()
                default: continue
                }
            }
            stop()
        }
        thread.name = "lock-demo-stdin"
        thread.start()
    }

    func waitForGo() async {
        await withCheckedContinuation { continuation in
            let already = state.withLock { state -> Bool in
                if state.started || state.stopping { return true }
                state.startWaiter = continuation
                return false
            }
            if already { continuation.resume() }
        }
    }

    private func start() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.started = true
            defer { state.startWaiter = nil }
            return state.startWaiter
        }
        waiter?.resume()
    }

    private func stop() {
        let (task, waiter) = state.withLock { state -> (Task<Void, Never>?, CheckedContinuation<Void, Never>?) in
            state.stopping = true
            defer { state.startWaiter = nil }
            return (state.inCritical ? nil : state.work, state.startWaiter)
        }
        waiter?.resume()
        task?.cancel()
    }

    func setWork(_ task: Task<Void, Never>) {
        let stopping = state.withLock { state -> Bool in
            state.work = task
            return state.stopping
        }
        if stopping { task.cancel() }
    }

    var isStopping: Bool { state.withLock { $0.stopping } }

    /// Enters the critical section unless stopping; returns whether to stall in it.
    func enterCritical() throws -> Bool {
        try state.withLock { state in
            if state.stopping { throw CancellationError() }
            state.inCritical = true
            return state.stall
        }
    }

    /// Leaves it; cancels the work now if a stop came in meanwhile.
    func exitCritical() {
        let task = state.withLock { state -> Task<Void, Never>? in
            state.inCritical = false
            return state.stopping ? state.work : nil
        }
        task?.cancel()
    }
}
