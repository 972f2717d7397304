import ZooKeeperClient
import ZooKeeperRecipes

/// DistributedReadWriteLock: 2 writers and 3 readers × 5 holds each on one lock; the fault hits a holder
/// a third of the way in (under partition: a holder cut off inside its body).
struct RWLockSuite {
    static let invariant = """
        a writer's body never overlaps any other body (reader or writer) while both leases are held; \
        readers may share (peak reported); under partition ANY overlap fails (the cut-off holder must give \
        up first); an expired holder may overlap its successor until it hears of the expiry (counted, fenced); \
        every worker completes its holds
        """
    let writers = 2
    let readers = 3
    let rounds = 5

    func run(_ context: ScenarioContext) async throws {
        try await context.prepare()
        let path = try context.root.appending("rwlock")
        let writers = self.writers
        let driver = HoldDriver(context, workers: writers + readers, rounds: rounds, capacity: ["rw": .max])
        try await driver.run { worker, client, body in
            let lock = DistributedReadWriteLock(client: client, path: path)
            let exclusive = worker < writers
            let half = exclusive ? lock.writeLock : lock.readLock
            try await half.withLock(timeout: .seconds(30)) { (lease: LockLease) async throws -> Void in
                try await body(HoldLedger.Claim(worker: worker, resources: ["rw"], exclusive: exclusive, leases: [lease]))
            }
        }
    }
}
