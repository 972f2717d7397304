import Synchronization
import ZooKeeperClient
import ZooKeeperRecipes

/// DistributedMultiLock over two mutexes A and B: 2 workers take both, 1 takes A alone, 1 takes B alone,
/// × 5 holds each; the fault hits a holder a third of the way in.
struct MultiLockSuite {
    static let invariant = """
        all or nothing and exclusive: a multi-lock body runs holding both A and B (two held leases), \
        nobody else is inside A or B meanwhile (under partition: any overlap at all); after every worker \
        is done, A and B hold no contender node (no half-acquired set left behind); every worker completes
        """
    let rounds = 5

    func run(_ context: ScenarioContext) async throws {
        try await context.prepare()
        let a = try context.root.appending("a"), b = try context.root.appending("b")
        let driver = HoldDriver(context, workers: 4, rounds: rounds)
        let ledger = driver.ledger
        try await driver.run { worker, client, body in
            switch worker {
            case 0, 1:
                let multi = DistributedMultiLock(client: client, paths: [a, b])
                try await multi.withLock(timeout: .seconds(30)) { (lease: MultiLease) async throws -> Void in
                    let sessions = Set(lease.leases.map(\.sessionID))
                    if lease.leases.count != 2 || sessions.count != 1 {
                        ledger.state.withLock { $0.violations.append("multi-lock body with \(lease.leases.count) lease(s) of sessions \(sessions)") }
                    }
                    try await body(HoldLedger.Claim(worker: worker, resources: ["A", "B"], exclusive: true, leases: lease.leases))
                }
            default:
                let mutex = DistributedMutex(client: client, path: worker == 2 ? a : b)
                try await mutex.withLock(timeout: .seconds(30)) { (lease: LockLease) async throws -> Void in
                    try await body(HoldLedger.Claim(worker: worker, resources: [worker == 2 ? "A" : "B"], exclusive: true, leases: [lease]))
                }
            }
        }
        // Expired sessions' nodes go with them; released ones may still be deleting (guaranteed delete).
        let checker = try await context.client()
        try await converge("no contender left in A and B", timeout: context.sessionTimeout * 2) {
            var left: [String] = []
            for path in [a, b] {
                do { left += try await checker.getChildren(path) } catch let error as ZooKeeperError where error.code == .noNode {}
            }
            return left.isEmpty ? nil : "contenders \(left) after every worker finished"
        }
    }
}
