import Testing
import ZooKeeperClient
import ZooKeeperRecipes

// The examples of recipes-docs/barriers.md, queues.md and counters.md, compiled (not run) so the pages
// cannot drift from the API. Keep them in sync with the pages.

private func barriersExample(zk: ZooKeeperClient, compute: () async throws -> Void) async throws {
    let barrier = DistributedBarrier(client: zk, path: "/barriers/deploy")
    try await barrier.setBarrier()
    try await barrier.waitForRelease(timeout: .seconds(60))   // workers; throws BarrierError.timedOut
    try await barrier.removeBarrier()

    let double = DistributedDoubleBarrier(client: zk, path: "/barriers/job-7", memberCount: 5)
    try await double.enter()
    try await compute()
    try await double.leave()
}

private struct Order: Codable, Sendable { var id: Int }

private func ship(_ order: Order) async throws -> String { "shipped \(order.id)" }

private func queuesExample(zk: ZooKeeperClient) async throws {
    let queue = DistributedQueue<Order>(client: zk, path: "/queues/orders")
    try await queue.put(Order(id: 1))
    let order = try await queue.take()
    let maybe = try await queue.poll()
    let head = try await queue.peek()
    let receipt = try await queue.process(timeout: .seconds(30)) { order in try await ship(order) }
    _ = (order, maybe, head, receipt)

    let utf8 = QueueSerializer<String>(encode: { Array($0.utf8) }, decode: { String(decoding: $0, as: UTF8.self) })
    let shared = DistributedQueue<String>(client: zk, path: "/queues/with-java", serializer: .curatorFramed(utf8))
    try await shared.put("hello from Swift")

    let jobs = DistributedPriorityQueue<String>(client: zk, path: "/queues/jobs")
    try await jobs.put("urgent", priority: -10)

    let reminders = DistributedDelayQueue<String>(client: zk, path: "/queues/reminders")
    try await reminders.put("ping", delay: .seconds(30))
    let due = try await reminders.take()
    _ = due
}

private func countersExample(zk: ZooKeeperClient) async throws {
    let shared = SharedCount(client: zk, path: "/config/max-workers", seedValue: 4)
    try await shared.start()
    if let current = shared.versionedValue {
        _ = try await shared.trySetCount(expected: current, newValue: current.value + 1)
    }
    for await value in shared.changes() { print("max workers now", value) }

    let counter = DistributedAtomicLong(client: zk, path: "/counters/orders")
    let result = try await counter.increment()
    _ = result.succeeded

    let ids = UniqueIDGenerator(client: zk, path: "/ids/orders")
    let orderNumber = try await ids.next()
    _ = orderNumber
}

@Test("recipes-docs examples for barriers, queues and counters compile")
func recipeDocExamplesCompile() {
    // Referencing the functions keeps them from being dead code; compiling them is the test.
    _ = (barriersExample, queuesExample, countersExample)
}
