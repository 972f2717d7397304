import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperTestSupport

/// LeaderSelector: three participants with autoRequeue, each body holding leadership until cancelled.
/// A sampler checks that at most one body runs at a time among connected participants, and every term's
/// fencing token is larger than the previous term's; after the fault (with no fault: the leader's
/// leadership is interrupted) a connected participant must lead within the session timeout plus election
/// time — in a new term when the fault ends the old one (interruption, session expiry).
struct SelectorSuite {
    static let invariant = """
        at most one connected participant runs its leadership body at a time, and every term's fencing token \
        is larger than the previous term's; after the fault (no fault: leadership interrupted) a connected \
        participant leads within session timeout + 10 s — in a new term when the fault ended the old one
        """
    let participants = 3
    let electionTime: Duration = .seconds(10)

    private struct Ledger: Sendable {
        var running: [String: Int64] = [:]  // participant id → its term's token
        var tokens: [Int64] = []
        var violations: [String] = []
    }

    func run(_ context: ScenarioContext) async throws {
        try await context.prepare()
        let path = try context.root.appending("selection")
        let ledger = Shared(Ledger())
        var selectors: [LeaderSelector] = []
        for index in 0..<participants {
            let id = "p\(index)"
            let selector = LeaderSelector(client: try await context.client(), path: path, id: id)
            try await selector.start(autoRequeue: true) { term in
                ledger.withLock { ledger in
                    if let last = ledger.tokens.last, term.fencingToken <= last {
                        ledger.violations.append("token \(term.fencingToken) after \(last)")
                    }
                    ledger.tokens.append(term.fencingToken)
                    ledger.running[id] = term.fencingToken
                }
                defer { _ = ledger.withLock { $0.running.removeValue(forKey: id) } }
                try await suspendUntilCancelled()  // lead until cancelled
            }
            selectors.append(selector)
        }
        let all = selectors
        let sampler = Task {
            while !Task.isCancelled {
                let running = ledger.value.running.keys
                let connected = all.filter { running.contains($0.id) && $0.client.connectionState.isConnected }
                if connected.count > 1 {
                    ledger.withLock { $0.violations.append("\(connected.map(\.id)) ran leadership bodies at once") }
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        defer { sampler.cancel() }
        func leader() -> LeaderSelector? {
            let running = ledger.value.running.keys
            return selectors.first { running.contains($0.id) && $0.client.connectionState.isConnected }
        }

        try await waitFor("a first leader", timeout: electionTime) { leader() != nil }
        guard let first = leader() else { throw MatrixError("no leader") }
        let firstTerms = ledger.value.tokens.count
        try await Task.sleep(for: .milliseconds(300))

        let start = ContinuousClock.now
        if context.fault == .none {
            first.interruptLeadership()
        } else {
            try await context.injectFault(victim: first.client)
        }
        let bound = context.sessionTimeout + electionTime
        // Interruption and expiry end the term; server faults may leave the leader's connection alone
        // (a restarted follower it is not connected to), so then a connected leader is what must exist.
        // A partition longer than the session timeout ends the term too (the session expires).
        let mustChange = context.fault == .none || context.fault == .sessionExpired || context.fault == .partition
        try await waitFor(mustChange ? "a new term after the fault" : "a leader after the fault", timeout: bound) {
            (!mustChange || ledger.value.tokens.count > firstTerms) && leader() != nil
        }
        context.note("leader after \(Outcome.seconds(ContinuousClock.now - start)), \(ledger.value.tokens.count) terms")
        try await Task.sleep(for: .milliseconds(300))
        if context.fault != .none { try await context.verifyFault() }
        sampler.cancel()
        for selector in selectors { await selector.close() }
        let found = ledger.value.violations
        if !found.isEmpty { throw MatrixError(found.prefix(3).joined(separator: "; ")) }
    }
}
