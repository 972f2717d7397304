import ZooKeeperClient
import ZooKeeperRecipes

/// DistributedDoubleBarrier with 3 members: members 1 and 2 enter and wait; the fault hits member 0's
/// client, which then enters (riding out the fault, or on a new session after expiry); all work, then leave.
struct DoubleBarrierSuite {
    static let invariant = """
        nobody returns from enter() before all 3 members are inside (an attempt cut short by session \
        expiry does not count as inside); nobody returns from leave() before all 3 have called leave(); \
        afterwards no member node is left; every member gets through both phases (the victim on a new \
        session if the fault expired its own)
        """
    let members = 3

    private struct Ledger: Sendable {
        var entering: Set<Int> = []
        var entered: Set<Int> = []
        var leaving: Set<Int> = []
        var left: Set<Int> = []
        var violations: [String] = []
        var retriedEnters = 0
    }

    func run(_ context: ScenarioContext) async throws {
        try await context.prepare()
        let path = try context.root.appending("double")
        let ledger = Shared(Ledger())
        let slots = try await (0..<members).asyncMap { _ in try await ClientSlot(context) }
        let members = self.members
        let timeout = context.sessionTimeout * 3 + .seconds(10)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, slot) in slots.enumerated() where index > 0 {
                group.addTask { try await Self.member(index, slot, path, members, ledger, timeout) }
            }
            try await waitFor("members 1 and 2 entering", timeout: .seconds(10)) { ledger.value.entering.count == members - 1 }
            try await context.injectFault(victim: slots[0].client)
            group.addTask { try await Self.member(0, slots[0], path, members, ledger, timeout) }
            try await group.waitForAll()
        }
        try await context.verifyFault()
        let checker = try await context.client()
        try await converge("no member node left", timeout: context.sessionTimeout * 2) {
            let children: [String]
            do { children = try await checker.getChildren(path) } catch let error as ZooKeeperError where error.code == .noNode { return nil }
            return children.isEmpty ? nil : "left behind: \(children)"
        }
        let state = ledger.value
        if !state.violations.isEmpty { throw MatrixError(state.violations.joined(separator: "; ")) }
        if state.retriedEnters > 0 { context.note("\(state.retriedEnters) enter(s) retried on a new session") }
    }

    private static func member(
        _ index: Int, _ slot: ClientSlot, _ path: ZNodePath, _ members: Int, _ ledger: Shared<Ledger>, _ timeout: Duration
    ) async throws {
        var barrier: DistributedDoubleBarrier
        while true {
            barrier = DistributedDoubleBarrier(client: slot.client, path: path, memberCount: members)
            ledger.withLock { _ = $0.entering.insert(index) }
            do {
                try await barrier.enter(timeout: timeout)
                break
            } catch {
                ledger.withLock { state in
                    state.entering.remove(index)
                    state.retriedEnters += 1
                }
                // A timed-out enter leaves its node (documented): retrying would count one member twice.
                let terminal = (error as? ZooKeeperError)?.isSessionTerminal ?? false
                if case .lost = slot.client.connectionState {} else if !terminal { throw error }
                try await slot.recover(after: error)
            }
        }
        ledger.withLock { state in
            if state.entering.count < members {
                state.violations.append("member \(index) passed enter() with only \(state.entering.sorted()) inside")
            }
            state.entered.insert(index)
        }
        try await Task.sleep(for: .milliseconds(20))  // the work between the barriers
        ledger.withLock { _ = $0.leaving.insert(index) }
        try await barrier.leave(timeout: timeout)
        ledger.withLock { state in
            if state.leaving.count < members {
                state.violations.append("member \(index) passed leave() with only \(state.leaving.sorted()) leaving")
            }
            state.left.insert(index)
        }
    }
}
