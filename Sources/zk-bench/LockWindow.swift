import Synchronization
import ZooKeeperClient
import ZooKeeperRecipes

/// The timed shape of the lock modes, as the Java harness's `Window`: workers loop for `warmup`
/// seconds unmeasured, then `seconds` measured; a cycle counts when it ends inside the measured
/// window; rates are per second of that window. Each worker has its own session.
struct LockWindow: Sendable {
    var warmup: Double
    var seconds: Double

    /// Longest one acquire may wait before it counts as an error (the harness's `WAIT_S`).
    static let acquireTimeout: Duration = .seconds(30)

    init(_ arguments: inout Arguments) throws(UsageError) {
        seconds = try arguments.seconds("seconds", default: 5, range: 0.1...600)
        warmup = try arguments.seconds("warmup", default: 1, range: 0...600)
    }

    /// The harness's window flags with the same values.
    var javaArguments: [String] { ["--seconds", String(seconds), "--warmup", String(warmup)] }

    /// A bound for one harness run: JVM start, sessions, the window, and slack for a noisy machine.
    var javaTimeout: Double { 120 + (warmup + seconds) * 2 }

    /// What one worker measured (cycles that ended inside the measured window).
    struct Tally: Sendable {
        var acquire = Samples()
        var release = Samples()
        var count = 0
        var timeouts = 0
    }

    struct Result: Sendable {
        var tallies: [Tally]
        var seconds: Double

        func rate(_ count: Int) -> Double { seconds > 0 ? Summary.round(Double(count) / seconds) : 0 }
        var timeouts: Int { tallies.reduce(0) { $0 + $1.timeouts } }

        func merged(_ range: Range<Int>, _ samples: KeyPath<Tally, Samples>) -> Summary {
            var all = Samples()
            for tally in tallies[range] { all.add(contentsOf: tally[keyPath: samples]) }
            return all.summary()
        }

        func count(_ range: Range<Int>) -> Int { tallies[range].reduce(0) { $0 + $1.count } }
    }

    /// Runs `body(index, control)` for each of `workers` indexes; each loops until the control's stage
    /// is `stopping` and returns its tally. The first worker failure cancels the others and is rethrown.
    func run(
        workers: Int, _ body: @escaping @Sendable (Int, ThroughputPhase.Control) async throws -> Tally
    ) async throws -> Result {
        let control = ThroughputPhase.Control()
        let (warmup, seconds) = (warmup, seconds)
        var tallies = [Tally](repeating: Tally(), count: workers)
        var measured = 0.0
        try await withThrowingTaskGroup(of: (Int, Tally?, Double?).self) { group in
            group.addTask {
                try await Task.sleep(for: .seconds(warmup))
                let start = Clock.nanos()
                control.stage.store(ThroughputPhase.Control.measuring, ordering: .relaxed)
                try await Task.sleep(for: .seconds(seconds))
                control.stage.store(ThroughputPhase.Control.stopping, ordering: .relaxed)
                return (-1, nil, Double(Clock.nanos() - start) / 1e9)
            }
            for index in 0..<workers {
                group.addTask { (index, try await body(index, control), nil) }
            }
            for try await (index, tally, window) in group {
                if let tally { tallies[index] = tally }
                if let window { measured = window }
            }
        }
        return Result(tallies: tallies, seconds: measured)
    }

    /// One acquire → `section` → release cycle on `lock`, recorded in `tally` when it ended inside
    /// the measured window; a timed-out acquire counts as an error and the loop goes on (as in Java).
    static func cycle(
        _ lock: DistributedMutex, control: ThroughputPhase.Control, tally: inout Tally,
        section: () async -> Void
    ) async throws {
        let start = Clock.nanos()
        let lease: LockLease
        do {
            lease = try await lock.acquire(timeout: acquireTimeout)
        } catch LockError.timedOut {
            tally.timeouts += 1
            return
        }
        let acquired = Clock.nanos()
        await section()
        let sectionEnd = Clock.nanos()
        try await lease.release()
        let end = Clock.nanos()
        if control.stage.load(ordering: .relaxed) == ThroughputPhase.Control.measuring {
            tally.acquire.add(acquired - start)
            tally.release.add(end - sectionEnd)
            tally.count += 1
        }
    }

    static func stopping(_ control: ThroughputPhase.Control) -> Bool {
        control.stage.load(ordering: .relaxed) == ThroughputPhase.Control.stopping
    }

    /// Opens `count` sessions, runs `body` with them, and closes them all (also on failure).
    static func withSessions<T>(
        _ count: Int, root: BenchRoot, _ body: ([ZooKeeperClient]) async throws -> T
    ) async throws -> T {
        var clients: [ZooKeeperClient] = []
        do {
            for _ in 0..<count { clients.append(try await root.client()) }
            let result = try await body(clients)
            for client in clients { await client.close() }
            return result
        } catch {
            for client in clients { await client.close() }
            throw error
        }
    }
}
