import Synchronization

/// Everything the workers reported, gathered from their reader threads.
final class RunLog: Sendable {
    struct State {
        var sessions: [Int: Int64] = [:]
        /// Session timeouts the server granted (ms), per worker.
        var grantedTimeouts: [Int: Int64] = [:]
        var acquisitions: [Acquisition] = []
        /// Holders that were killed inside the lock (exit time = kill time).
        var killedHolders: [Acquisition] = []
        var killedWorker: Int?
        var killedAtNanos: Int64?
        var done: [Int: (acquisitions: Int, watchEvents: Int)] = [:]
        var failures: [String] = []
        var exited: Set<Int> = []
        var malformed = 0
    }

    let state = Mutex(State())
    /// Called on a reader thread when a worker reports it is stalling inside the lock.
    private let onHolding: @Sendable (Int) -> Int64?

    init(onHolding: @escaping @Sendable (Int) -> Int64?) { self.onHolding = onHolding }

    func record(worker: Int, message: WorkerMessage?, line: Substring) {
        switch message {
        case let .ready(session, timeout):
            state.withLock {
                $0.sessions[worker] = session
                $0.grantedTimeouts[worker] = timeout
            }
        case var .acquired(acquisition):
            acquisition.worker = worker
            state.withLock { $0.acquisitions.append(acquisition) }
        case var .holding(acquisition):
            acquisition.worker = worker
            // Kill first, book-keep after: the kill time is what the hand-over is measured from.
            let killedAt = onHolding(worker)
            state.withLock { state in
                acquisition.exitNanos = killedAt ?? acquisition.enterNanos
                state.killedHolders.append(acquisition)
                state.killedWorker = worker
                state.killedAtNanos = killedAt
            }
        case let .done(count, events):
            state.withLock { $0.done[worker] = (count, events) }
        case let .failed(text):
            state.withLock { $0.failures.append("worker \(worker): \(text)") }
        case nil:
            state.withLock { $0.malformed += 1 }
            _ = line
        }
    }

    func exited(worker: Int) { _ = state.withLock { $0.exited.insert(worker) } }

    var snapshot: State { state.withLock { $0 } }
}
