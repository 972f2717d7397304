import Synchronization
import ZooKeeperClient
import ZooKeeperRecipes

/// LeaderLatch: three participants. A sampler checks that at most one connected participant leads at any
/// time; after the fault (with no fault: the leader steps down) a leader must exist again within the
/// session timeout plus election time.
struct LatchSuite {
    static let invariant = """
        at most one connected participant leads at any time (5 ms sampler); after the fault (no fault: the \
        leader steps down) a connected leader exists again within session timeout + 10 s — a new one when the \
        fault ends the old leader's session
        """
    let participants = 3
    let electionTime: Duration = .seconds(10)

    func run(_ context: ScenarioContext) async throws {
        try await context.prepare()
        let path = try context.root.appending("election")
        var latches: [LeaderLatch] = []
        for index in 0..<participants {
            let latch = LeaderLatch(client: try await context.client(), path: path, id: "p\(index)")
            try await latch.start()
            latches.append(latch)
        }
        let active = Shared(latches)
        let violations = Shared<[String]>([])
        let sampler = Task {
            while !Task.isCancelled {
                let leaders = active.value.filter { $0.hasLeadership && $0.client.connectionState.isConnected }
                if leaders.count > 1 {
                    violations.withLock { list in list.append("\(leaders.map(\.id)) led at once") }
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        defer { sampler.cancel() }
        func leader() -> LeaderLatch? { active.value.first { $0.hasLeadership } }

        try await waitFor("a first leader", timeout: electionTime) { leader() != nil }
        guard let first = leader() else { throw MatrixError("no leader") }
        try await Task.sleep(for: .milliseconds(300))

        let start = ContinuousClock.now
        switch context.fault {
        case .none:
            active.withLock { list in list.removeAll { $0 === first } }
            await first.close()
        case .sessionExpired:
            active.withLock { list in list.removeAll { $0 === first } }
            try await context.injectFault(victim: first.client)
        default:
            try await context.injectFault(victim: first.client)
        }
        let bound = context.sessionTimeout + electionTime
        try await waitFor("a leader after the fault", timeout: bound) {
            if let next = leader(), next.client.connectionState.isConnected { return true }
            return false
        }
        // Ends the victim's session too (cut off for longer than the session timeout).
        if context.fault == .none || context.fault == .sessionExpired || context.fault == .partition {
            try await waitFor("a new leader", timeout: bound) { leader().map { $0 !== first } ?? false }
        }
        context.note("leader again after \(Outcome.seconds(ContinuousClock.now - start))")
        try await Task.sleep(for: .milliseconds(300))
        try await context.verifyFault()
        sampler.cancel()
        for latch in latches { await latch.close() }
        let found = violations.value
        if !found.isEmpty { throw MatrixError("two leaders: \(found.prefix(3).joined(separator: "; "))") }
    }
}
