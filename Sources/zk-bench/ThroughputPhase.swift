import Synchronization
import ZooKeeperClient

/// One timed phase of a throughput run: every connection gets `depth` workers, each looping on one
/// request at a time, so each connection has `depth` requests in flight (the Java harness's
/// semaphore window). Timed (`warmup`, then `seconds` measured) or counted (exactly `ops` requests,
/// no warm-up, rate over the whole phase).
struct ThroughputPhase {
    enum Budget: Sendable {
        case timed(warmup: Double, seconds: Double)
        case counted(Int)
    }

    struct Result: Sendable {
        var operation: ThroughputMode.Operation
        var completed: Int
        var seconds: Double
        var errors: Int
        var latency: Summary
        var opsPerSecond: Double { seconds > 0 ? Summary.round(Double(completed) / seconds) : 0 }

        var json: [String: Any] {
            ["ops_per_s": opsPerSecond, "completed": completed, "seconds": Summary.round(seconds),
             "errors": errors, "latency": latency.json]
        }
    }

    /// Shared by the workers of one phase.
    final class Control: Sendable {
        static let warmingUp = 0, measuring = 1, stopping = 2
        let stage = Atomic<Int>(0)
        /// Counted phases: tickets handed out so far.
        let issued = Atomic<Int>(0)
    }

    private struct WorkerTally: Sendable {
        var samples = Samples()
        var completed = 0
        var errors = 0
        var lastError: ZooKeeperError?
    }

    let operation: ThroughputMode.Operation
    let loads: [LoadConnection]
    let depth: Int
    let budget: Budget
    let data: [UInt8]

    func run() async throws -> Result {
        let control = Control()
        if case .counted = budget { control.stage.store(Control.measuring, ordering: .relaxed) }
        let phaseStart = Clock.nanos()
        var window: (start: Int64, end: Int64)?
        var total = WorkerTally()
        try await withThrowingTaskGroup(of: PhaseEvent.self) { group in
            if case let .timed(warmup, seconds) = budget {
                group.addTask {
                    try await Task.sleep(for: .seconds(warmup))
                    let start = Clock.nanos()
                    control.stage.store(Control.measuring, ordering: .relaxed)
                    try await Task.sleep(for: .seconds(seconds))
                    control.stage.store(Control.stopping, ordering: .relaxed)
                    return .window(start: start, end: Clock.nanos())
                }
            }
            for load in loads {
                for _ in 0..<depth {
                    group.addTask { .worker(try await worker(load, control: control)) }
                }
            }
            for try await event in group {
                switch event {
                case let .window(start, end): window = (start, end)
                case let .worker(tally):
                    total.samples.add(contentsOf: tally.samples)
                    total.completed += tally.completed
                    total.errors += tally.errors
                    total.lastError = tally.lastError ?? total.lastError
                }
            }
        }
        if total.errors > 0, let lastError = total.lastError {
            Output.warn("\(operation): \(total.errors) failed requests, last: \(lastError)")
        }
        let (start, end) = window ?? (phaseStart, Clock.nanos())
        return Result(operation: operation, completed: total.completed, seconds: Double(end - start) / 1e9,
                      errors: total.errors, latency: total.samples.summary())
    }

    private enum PhaseEvent: Sendable {
        case window(start: Int64, end: Int64)
        case worker(WorkerTally)
    }

    /// Too many failures mean the server or session is gone: stop instead of spinning.
    private static let maxErrorsPerWorker = 100

    private func worker(_ load: LoadConnection, control: Control) async throws -> WorkerTally {
        var tally = WorkerTally()
        while control.stage.load(ordering: .relaxed) != Control.stopping {
            if case let .counted(limit) = budget {
                guard control.issued.add(1, ordering: .relaxed).newValue <= limit else { break }
            }
            guard let path = load.nextPath(for: operation) else { break }
            let start = Clock.nanos()
            do {
                try await load.perform(operation, path: path, data: data)
            } catch let error as ZooKeeperError {
                tally.errors += 1
                tally.lastError = error
                if error.isSessionTerminal || tally.errors > Self.maxErrorsPerWorker { throw error }
                continue
            }
            if control.stage.load(ordering: .relaxed) == Control.measuring {
                tally.samples.add(Clock.nanos() - start)
                tally.completed += 1
            }
        }
        return tally
    }
}
