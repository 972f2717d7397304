import Synchronization
import ZooKeeperClient
import ZooKeeperRecipes

/// DistributedSemaphore with 2 leases: 4 workers × 5 holds; the fault hits a holder a third of the way in.
struct SemaphoreSuite {
    static let invariant = """
        never more than maxLeases (2) bodies inside at once while their leases are held (the peak must \
        reach 2: the leases are shared); under partition ANY third body fails; an expired holder may \
        overlap until it hears of the expiry (counted); every worker completes its holds
        """
    let maxLeases = 2
    let workers = 4
    let rounds = 5

    func run(_ context: ScenarioContext) async throws {
        try await context.prepare()
        let path = try context.root.appending("semaphore")
        let maxLeases = self.maxLeases
        let driver = HoldDriver(context, workers: workers, rounds: rounds, capacity: ["sem": maxLeases])
        try await driver.run { worker, client, body in
            let semaphore = DistributedSemaphore(client: client, path: path, maxLeases: maxLeases)
            try await semaphore.withLease(timeout: .seconds(30)) { (lease: LockLease) async throws -> Void in
                try await body(HoldLedger.Claim(worker: worker, resources: ["sem"], exclusive: false, leases: [lease]))
            }
        }
        let peak = driver.ledger.state.withLock { $0.peak["sem"] ?? 0 }
        if peak < maxLeases { throw MatrixError("the leases were never shared (peak \(peak) < \(maxLeases))") }
    }
}
