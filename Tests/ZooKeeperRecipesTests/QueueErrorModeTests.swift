import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperTestSupport

/// Defect: one undecodable item blocked a queue forever (every take/process threw on the head item),
/// and a body that always failed was retried with no backoff.
@Suite("DistributedQueue error modes and backoff", .timeLimit(.minutes(2)))
struct QueueErrorModeTests {
    struct Failure: Error {}

    /// Puts a node no JSON decoder accepts, ahead of the good items.
    static func putGarbage(_ client: ZooKeeperClient, _ path: ZNodePath) async throws {
        try await DistributedQueue<[UInt8]>(client: client, path: path, serializer: .raw).put(Array("not json".utf8))
    }

    @Test("an undecodable head item does not block take, poll or process (default mode: requeued at the tail)")
    func undecodableDoesNotBlock() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let path: ZNodePath = "/queues/poison"
                let queue = DistributedQueue<String>(client: clients[0], path: path)
                try await Self.putGarbage(clients[0], path)
                for word in ["a", "b", "c"] { try await queue.put(word) }
                #expect(try await queue.take(timeout: .seconds(5)) == "a")
                #expect(try await queue.poll() == "b")
                #expect(try await queue.process(timeout: .seconds(5)) { $0 } == "c")
                await #expect(throws: QueueError.timedOut, "only the undecodable item is left") {
                    try await queue.take(timeout: .milliseconds(300))
                }
                let raw = DistributedQueue<[UInt8]>(client: clients[0], path: path, serializer: .raw)
                #expect(try await raw.poll() == Array("not json".utf8), "requeued, not lost")
            }
        }
    }

    @Test("a body that always fails is backed off (RetryPolicy.delay(beforeRetry:)), the item is kept")
    func failingBodyBacksOff() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let policy = RetryPolicy(maxRetries: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
                let queue = DistributedQueue<String>(client: clients[0], path: "/queues/failing", retryPolicy: policy)
                try await queue.put("job")
                let attempts = Box(0)
                let end = ContinuousClock.now + .milliseconds(1500)
                while ContinuousClock.now < end {
                    await #expect(throws: Failure.self) {
                        _ = try await queue.process(timeout: .seconds(5)) { _ -> Int in
                            attempts.update { $0 += 1 }
                            throw Failure()
                        }
                    }
                }
                // Backoff of ≥ 100 ms, doubling: at most ~6 attempts in 1.5 s; without it, hundreds.
                #expect(attempts.get <= 8, "\(attempts.get) attempts in 1.5 s")
                #expect(try await queue.process(timeout: .seconds(5)) { $0 } == "job", "the item was kept")
            }
        }
    }

    @Test(".deadLetter moves a failed item's data (undecodable, or its body threw); .delete drops it")
    func deadLetterAndDelete() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let dead: ZNodePath = "/queues/dead"
                for mode in [QueueErrorMode.deadLetter(dead), .delete] {
                    let path = try ZNodePath("/queues/modes-\(mode == .delete ? "delete" : "dead")")
                    let queue = DistributedQueue<String>(client: clients[0], path: path, errorMode: mode)
                    try await Self.putGarbage(clients[0], path)
                    for word in ["a", "b"] { try await queue.put(word) }
                    #expect(try await queue.take(timeout: .seconds(5)) == "a")
                    await #expect(throws: Failure.self) {
                        _ = try await queue.process(timeout: .seconds(5)) { _ -> Int in throw Failure() }
                    }
                    #expect(try await queue.count() == 0, "\(mode): both failed items left the queue")
                    #expect(try await leftovers(clients[0], path.appending("receipts")).isEmpty)
                }
                let letters = DistributedQueue<[UInt8]>(client: clients[0], path: dead, serializer: .raw)
                #expect(try await letters.take(timeout: .seconds(1)) == Array("not json".utf8))
                #expect(try await letters.take(timeout: .seconds(1)) == Array(#""b""#.utf8))
                #expect(try await letters.poll() == nil, ".delete put nothing there")
            }
        }
    }

    @Test("a requeued priority item keeps its priority: it goes to the tail of its priority")
    func requeueKeepsPriority() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let queue = DistributedPriorityQueue<String>(client: clients[0], path: "/queues/prio-requeue")
                try await queue.put("first", priority: 1)
                try await queue.put("second", priority: 1)
                try await queue.put("later", priority: 5)
                await #expect(throws: Failure.self) {
                    _ = try await queue.queue.process(timeout: .seconds(5)) { _ -> Int in throw Failure() }
                }
                var order: [String] = []
                while let item = try await queue.poll() { order.append(item) }
                #expect(order == ["second", "first", "later"])
            }
        }
    }
}
