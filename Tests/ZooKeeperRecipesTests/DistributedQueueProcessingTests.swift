import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperTestSupport

/// A gate a test opens to let a blocked processing body finish.
final class Gate: Sendable {
    private let opened = Box(false)
    func open() { opened.update { $0 = true } }
    func wait() async throws { try await eventually(within: .seconds(30)) { opened.get } }
}

@Suite("DistributedQueue.process (at-least-once)", .timeLimit(.minutes(2)))
struct DistributedQueueProcessingTests {
    @Test("process removes each item only after its body returns; FIFO; no claim is left")
    func basics() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let queue = DistributedQueue<String>(client: clients[0], path: "/queues/process")
                await #expect(throws: QueueError.timedOut) { try await queue.process(timeout: .milliseconds(100)) { $0 } }
                for word in ["a", "b", "c"] { try await queue.put(word) }
                var seen: [String] = []
                for _ in 0..<3 {
                    let result = try await queue.process(timeout: .seconds(5)) { item throws -> Int in
                        let queued = try await queue.count()
                        #expect(queued == 3 - seen.count, "the item stays queued while processed")
                        seen.append(item)
                        return item.count
                    }
                    #expect(result == 1)
                }
                #expect(seen == ["a", "b", "c"])
                #expect(try await queue.count() == 0)
                #expect(try await leftovers(clients[0], "/queues/process/receipts").isEmpty)
            }
        }
    }

    @Test("a body that throws requeues the item at the tail (Curator's ErrorMode.REQUEUE) for the next consumer")
    func failedBodyKeepsItem() async throws {
        struct Failure: Error {}
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let first = DistributedQueue<String>(client: clients[0], path: "/queues/retry")
                let second = DistributedQueue<String>(client: clients[1], path: "/queues/retry")
                try await first.put("job-1")
                try await first.put("job-2")
                await #expect(throws: Failure.self) {
                    _ = try await first.process(timeout: .seconds(5)) { _ in throw Failure() }
                }
                #expect(try await second.process(timeout: .seconds(5)) { $0 } == "job-2")
                #expect(try await second.take(timeout: .seconds(5)) == "job-1")
            }
        }
    }

    @Test("a claimed item is skipped by other consumers, processing or taking; released on completion")
    func claimsAreRespected() async throws {
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let path: ZNodePath = "/queues/claims"
                let queues = clients.map { DistributedQueue<String>(client: $0, path: path) }
                for name in ["x", "y", "z"] { try await queues[0].put(name) }
                let gate = Gate()
                let started = Box(false)
                let slow = Task {
                    try await queues[0].process(timeout: .seconds(10)) { item -> String in
                        started.update { $0 = true }
                        try await gate.wait()
                        return item
                    }
                }
                try await eventually(within: .seconds(10)) { started.get }
                #expect(try await queues[1].take(timeout: .seconds(5)) == "y", "x is claimed: the take skips it")
                #expect(try await queues[2].process(timeout: .seconds(5)) { $0 } == "z")
                #expect(try await queues[1].poll() == nil, "only the claimed item is left, and it is not offered")
                gate.open()
                #expect(try await slow.value == "x")
                _ = try await clients[1].sync(path)  // maybe another member: read what clients[0] removed
                #expect(try await queues[1].count() == 0)
            }
        }
    }

    @Test("the processing consumer's session expires mid-body: another consumer processes the item (at-least-once)")
    func sessionExpiryRedelivers() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/queues/redeliver"
                let doomed = DistributedQueue<String>(client: clients[0], path: path)
                let survivor = DistributedQueue<String>(client: clients[1], path: path)
                try await survivor.put("payment-42")
                let gate = Gate()
                let started = Box(false)
                let first = Task {
                    try await doomed.process(timeout: .seconds(10)) { item -> String in
                        started.update { $0 = true }
                        try await gate.wait()
                        return item
                    }
                }
                try await eventually(within: .seconds(10)) { started.get }
                try await server.expireSession(clients[0].session)
                // The claim went with the session: the item is offered again.
                #expect(try await survivor.process(timeout: .seconds(10)) { $0 } == "payment-42")
                gate.open()
                await #expect(throws: ZooKeeperError.self) { _ = try await first.value }
                #expect(try await survivor.count() == 0)
            }
        }
    }

    @Test("2 producers × 60 items, 2 processing consumers and 1 plain consumer: each item handled exactly once")
    func mixedConsumers() async throws {
        try await withRecipeServer { server in
            try await withClients(5, on: server) { clients in
                let path: ZNodePath = "/queues/mixed"
                let perProducer = 60
                let handled = Box<[QueueItem]>([])
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for producer in 0..<2 {
                        group.addTask {
                            let queue = DistributedQueue<QueueItem>(client: clients[producer], path: path)
                            for index in 0..<perProducer { try await queue.put(QueueItem(producer: producer, index: index)) }
                        }
                    }
                    for consumer in 2..<5 {
                        group.addTask {
                            let queue = DistributedQueue<QueueItem>(client: clients[consumer], path: path)
                            while handled.get.count < 2 * perProducer {
                                do {
                                    if consumer == 4 {
                                        let item = try await queue.take(timeout: .milliseconds(300))
                                        handled.update { $0.append(item) }
                                    } else {
                                        try await queue.process(timeout: .milliseconds(300)) { item in
                                            handled.update { $0.append(item) }
                                        }
                                    }
                                } catch QueueError.timedOut {
                                    continue  // none free yet
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let items = handled.get
                #expect(items.count == 2 * perProducer)
                #expect(Set(items).count == items.count, "nothing handled twice")
                _ = try await clients[0].sync(path)  // maybe another member: read what the consumers removed
                #expect(try await DistributedQueue<QueueItem>(client: clients[0], path: path).count() == 0)
            }
        }
    }
}
