import Synchronization
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperTestSupport

/// Runs a lock-like recipe's workers (`workers` clients × `rounds` holds each) under the scenario's
/// fault, recording every body in a ``HoldLedger``, and checks what all lock suites promise: no
/// conflicting bodies (the ledger's rule) and every worker finishes (waiters eventually acquire).
///
/// The fault is injected a third of the way in at a holder: the worker that entered last, or under
/// ``Fault/partition`` the next worker to enter, cut off *inside* a body that runs until the recipe
/// cancels it (bounded, so the scenario ends; an overlap is recorded either way).
struct HoldDriver {
    /// One hold: acquire on `client` as `worker`, run `body` with the claim, release.
    typealias Hold = @Sendable (_ worker: Int, _ client: ZooKeeperClient, _ body: @Sendable (HoldLedger.Claim) async throws -> Void) async throws -> Void

    let context: ScenarioContext
    let ledger: HoldLedger
    let workers: Int
    let rounds: Int

    init(_ context: ScenarioContext, workers: Int, rounds: Int, capacity: [String: Int] = [:]) {
        self.context = context
        ledger = HoldLedger(strict: context.fault == .partition, capacity: capacity)
        self.workers = workers
        self.rounds = rounds
    }

    func run(_ hold: @escaping Hold) async throws {
        let (ledger, context, rounds, workers) = (self.ledger, self.context, self.rounds, self.workers)
        let slots = try await (0..<workers).asyncMap { _ in try await ClientSlot(context) }
        let done = Shared(0)
        let gate = VictimGate()
        let victimBound = context.sessionTimeout * 4
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, slot) in slots.enumerated() {
                group.addTask {
                    var finished = 0
                    while finished < rounds {
                        do {
                            try await hold(index, slot.client) { (claim: HoldLedger.Claim) async throws -> Void in
                                ledger.enter(claim)
                                defer { ledger.exit(claim.worker) }
                                if gate.take(index) {
                                    try await Self.victimBody(context, bound: victimBound) { ledger.state.withLock { $0.partitionedAt } }
                                } else {
                                    try await Task.sleep(for: .milliseconds(15))
                                }
                                ledger.commit(claim)
                            }
                            finished += 1
                            let total = done.withLock { count -> Int in count += 1; return count }
                            context.progress("\(total)/\(workers * rounds) holds; worker \(index) at \(finished)/\(rounds); inside: \(ledger.insideSummary)")
                        } catch {
                            context.progress("worker \(index) at \(finished)/\(rounds) failed: \(error); inside: \(ledger.insideSummary)")
                            try await slot.recover(after: error)
                        }
                    }
                }
            }
            try await waitFor("a third of the holds", timeout: .seconds(30)) { done.value >= workers * rounds / 3 }
            let victim: Int
            if context.fault == .partition {
                gate.arm()
                try await waitFor("a holder inside its body to partition", timeout: .seconds(30)) { gate.victim != nil }
                victim = gate.victim ?? 0
                ledger.state.withLock { $0.partitionedAt = .now }
            } else {
                victim = ledger.state.withLock { $0.lastEntered } ?? 0
            }
            let client = slots[victim].client
            if context.fault == .sessionExpired {
                ledger.state.withLock { $0.expiredSession = client.session?.id }
            }
            try await context.injectFault(victim: client)
            try await group.waitForAll()
        }
        try await context.verifyFault()
        try check()
    }

    /// A holder busy with long work when the network goes: runs until the recipe cancels it (the
    /// CancellationError propagates: no commit), or notes that it never was within `bound`.
    static func victimBody(_ context: ScenarioContext, bound: Duration,
                           partitionedAt: @Sendable () -> ContinuousClock.Instant?) async throws {
        do {
            try await withTimeout(bound) { try await suspendUntilCancelled() }
        } catch is TimeoutError {
            context.note("the partitioned holder's body was never cancelled")
        } catch {
            let since = partitionedAt()
            context.note("the partitioned holder's body was cancelled \(since.map { Outcome.seconds(.now - $0) } ?? "?") after the partition began")
            throw error
        }
    }

    func check() throws {
        let state = ledger.state.withLock { $0 }
        if !state.violations.isEmpty {
            throw MatrixError((state.violations.prefix(3) + context.notes).joined(separator: "; "))
        }
        if state.commits < workers * rounds { throw MatrixError("\(state.commits) bodies completed < \(workers * rounds)") }
        let peaks = state.peak.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        context.note("most inside at once: \(peaks)")
        if state.staleRejected > 0 { context.note("\(state.staleRejected) stale holder write(s) fenced") }
        if state.expiredOverlaps > 0 { context.note("expired holder overlapped its successor \(state.expiredOverlaps)x (fenced)") }
    }
}

/// Under partition: the first worker to enter a body after ``arm()`` becomes the victim.
final class VictimGate: Sendable {
    private let state = Shared<(armed: Bool, victim: Int?)>((false, nil))
    func arm() { state.withLock { $0.armed = true } }
    var victim: Int? { state.value.victim }
    /// Whether `worker`, entering a body now, is the victim.
    func take(_ worker: Int) -> Bool {
        state.withLock { gate -> Bool in
            guard gate.armed, gate.victim == nil else { return false }
            gate.victim = worker
            return true
        }
    }
}
