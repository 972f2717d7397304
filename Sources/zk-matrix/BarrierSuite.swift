import ZooKeeperClient
import ZooKeeperRecipes

/// DistributedBarrier: a coordinator sets the barrier, 3 waiters wait for it; the fault hits waiter 0
/// while it waits, and the coordinator removes the barrier once the fault is under way.
struct BarrierSuite {
    static let invariant = """
        no waiter passes before the coordinator issued the removal (waitForRelease returning earlier fails \
        the cell), and every waiter passes after it within the session timeout + 10 s; a waiter whose \
        session the fault ended (expiry, partition) may instead fail with sessionExpired — never pass \
        early — and then waits again on a new session and passes
        """
    let waiters = 3

    private struct Ledger: Sendable {
        var removalIssued: ContinuousClock.Instant?
        var waiting: Set<Int> = []
        var passed: [Int: ContinuousClock.Instant] = [:]
        var violations: [String] = []
        var expiredWaits = 0
    }

    func run(_ context: ScenarioContext) async throws {
        try await context.prepare()
        let path = try context.root.appending("barrier")
        let coordinator = DistributedBarrier(client: try await context.client(), path: path)
        try await coordinator.setBarrier()
        let ledger = Shared(Ledger())
        let slots = try await (0..<waiters).asyncMap { _ in try await ClientSlot(context) }
        let bound = context.sessionTimeout + .seconds(10)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, slot) in slots.enumerated() {
                group.addTask {
                    while true {
                        do {
                            ledger.withLock { _ = $0.waiting.insert(index) }
                            try await DistributedBarrier(client: slot.client, path: path).waitForRelease(timeout: bound * 2)
                            ledger.withLock { state in
                                if state.removalIssued == nil { state.violations.append("waiter \(index) passed a barrier still set") }
                                state.passed[index] = .now
                            }
                            return
                        } catch let error as ZooKeeperError where error.isSessionTerminal {
                            ledger.withLock { $0.expiredWaits += 1 }
                            try await slot.recover(after: error)
                        } catch {
                            try await slot.recover(after: error)
                        }
                    }
                }
            }
            try await waitFor("every waiter waiting", timeout: .seconds(10)) { ledger.value.waiting.count == waiters }
            try await context.injectFault(victim: slots[0].client)
            // Held a little past the fault so waiters wait across it (a scenario shape, not a synchronisation).
            try await Task.sleep(for: context.sessionTimeout / 4)
            if !(try await coordinator.isSet()) { throw MatrixError("the barrier vanished while set") }
            ledger.withLock { $0.removalIssued = .now }
            try await coordinator.removeBarrier()
            try await waitFor("every waiter past the removed barrier", timeout: bound) { ledger.value.passed.count == waiters }
            try await group.waitForAll()
        }
        try await context.verifyFault()
        let state = ledger.value
        if !state.violations.isEmpty { throw MatrixError(state.violations.joined(separator: "; ")) }
        if state.expiredWaits > 0 { context.note("\(state.expiredWaits) wait(s) ended by session expiry, then passed on a new session") }
    }
}
