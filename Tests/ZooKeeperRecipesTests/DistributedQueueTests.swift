import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

struct QueueItem: Codable, Sendable, Hashable {
    var producer: Int
    var index: Int
}

@Suite("DistributedQueue", .timeLimit(.minutes(2)))
struct DistributedQueueTests {
    @Test("put/peek/poll/take on one client: FIFO, nil when empty, Curator's queue- layout")
    func basics() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let queue = DistributedQueue<QueueItem>(client: clients[0], path: "/queues/basic")
                #expect(try await queue.poll() == nil)
                #expect(try await queue.peek() == nil)
                await #expect(throws: QueueError.timedOut) { try await queue.take(timeout: .milliseconds(100)) }
                for index in 0..<3 { try await queue.put(QueueItem(producer: 0, index: index)) }
                let children = try await clients[0].getChildren("/queues/basic")
                #expect(children.sorted() == ["queue-0000000000", "queue-0000000001", "queue-0000000002"])
                #expect(try await queue.peek() == QueueItem(producer: 0, index: 0))
                #expect(try await queue.poll() == QueueItem(producer: 0, index: 0))
                #expect(try await queue.take() == QueueItem(producer: 0, index: 1))
                #expect(try await queue.count() == 1)
                #expect(try await queue.take(timeout: .seconds(5)) == QueueItem(producer: 0, index: 2))
                #expect(try await queue.poll() == nil)

                let raw = DistributedQueue<[UInt8]>(client: clients[0], path: "/queues/raw", serializer: .raw)
                try await raw.put([1, 2, 3])
                #expect(try await clients[0].getData("/queues/raw/queue-0000000000").data == [1, 2, 3])
                #expect(try await raw.take() == [1, 2, 3])
            }
        }
    }

    @Test("a waiting take is woken by a put (children watch, no polling)")
    func takeWaitsForPut() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let consumer = DistributedQueue<String>(client: clients[0], path: "/queues/wait")
                let producer = DistributedQueue<String>(client: clients[1], path: "/queues/wait")
                async let taken = consumer.take(timeout: .seconds(20))
                try await eventually(within: .seconds(10)) { (try? await clients[1].exists("/queues/wait")) != nil }
                try await producer.put("hello")
                #expect(try await taken == "hello")
            }
        }
    }

    @Test("2 producers × 200 items, 3 consumers: every item taken exactly once, per-producer FIFO")
    func producersAndConsumers() async throws {
        try await withRecipeServer { server in
            try await withClients(5, on: server) { clients in
                let path: ZNodePath = "/queues/contended"
                let perProducer = 200
                let taken = try await withThrowingTaskGroup(of: [QueueItem].self) { group in
                    for producer in 0..<2 {
                        group.addTask {
                            let queue = DistributedQueue<QueueItem>(client: clients[producer], path: path)
                            for index in 0..<perProducer { try await queue.put(QueueItem(producer: producer, index: index)) }
                            return []
                        }
                    }
                    let total = Box(0)
                    for consumer in 0..<3 {
                        group.addTask {
                            let queue = DistributedQueue<QueueItem>(client: clients[2 + consumer], path: path)
                            var mine: [QueueItem] = []
                            while total.get < 2 * perProducer {
                                let item: QueueItem
                                do { item = try await queue.take(timeout: .milliseconds(300)) } catch QueueError.timedOut { continue }
                                total.update { $0 += 1 }
                                mine.append(item)
                            }
                            return mine
                        }
                    }
                    var perConsumer: [[QueueItem]] = []
                    for try await items in group where !items.isEmpty { perConsumer.append(items) }
                    return perConsumer
                }
                let all = taken.flatMap { $0 }
                #expect(all.count == 2 * perProducer)
                #expect(Set(all).count == 2 * perProducer, "no item taken twice")
                for consumerItems in taken {
                    // Each consumer sees each producer's items in production order.
                    for producer in 0..<2 {
                        let indices = consumerItems.filter { $0.producer == producer }.map(\.index)
                        #expect(indices == indices.sorted(), "per-producer FIFO")
                    }
                }
                _ = try await clients[0].sync(path)  // maybe another member: read what the consumers took
                let left = try await clients[0].getChildren(path)
                #expect(left == ["receipts"], "no items left")
                #expect(try await leftovers(clients[0], "/queues/contended/receipts").isEmpty, "no receipts left")
            }
        }
    }

    @Test("a consumer whose session expires loses nothing: the items wait for the next consumer")
    func consumerSessionExpiry() async throws {
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let path: ZNodePath = "/queues/expiry"
                let doomed = DistributedQueue<Int>(client: clients[0], path: path)
                let producer = DistributedQueue<Int>(client: clients[1], path: path)
                for value in 0..<5 { try await producer.put(value) }
                #expect(try await doomed.take() == 0)
                #expect(try await doomed.take() == 1)

                // Expire the consumer while it waits on an empty queue of its own, then mid-stream.
                let states = clients[0].connectionStates()
                let waiting = Task { try await DistributedQueue<Int>(client: clients[0], path: "/queues/empty").take(timeout: .seconds(20)) }
                try await eventually(within: .seconds(10)) { (try? await clients[1].exists("/queues/empty")) != nil }
                try await server.expireSession(clients[0].session)
                try await waitForState(states) { if case .lost = $0 { return true } else { return false } }
                await #expect(throws: ZooKeeperError.self) { try await waiting.value }
                await #expect(throws: ZooKeeperError.self) { try await doomed.take(timeout: .seconds(5)) }

                // Nothing was lost: another consumer gets the rest, in order.
                let survivor = DistributedQueue<Int>(client: clients[2], path: path)
                _ = try await clients[2].sync(path)  // maybe another member: read what the producer and consumer did
                var rest: [Int] = []
                while let value = try await survivor.poll() { rest.append(value) }
                #expect(rest == [2, 3, 4])
            }
        }
    }

    @Test("a connection drop during take: the consumer recovers and takes every item once")
    func connectionDropDuringTakes() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/queues/drop"
                let producer = DistributedQueue<Int>(client: clients[1], path: path)
                let consumer = DistributedQueue<Int>(client: clients[0], path: path)
                async let takes: [Int] = {
                    var values: [Int] = []
                    while values.count < 20 { values.append(try await consumer.take(timeout: .seconds(20))) }
                    return values
                }()
                for value in 0..<10 { try await producer.put(value) }
                try await server.dropConnection(of: clients[0])
                for value in 10..<20 { try await producer.put(value) }
                let values = try await takes
                #expect(values == Array(0..<20))
            }
        }
    }

    @Test("priority queue: Curator's name layout; lower priority first, FIFO within a priority")
    func priorityQueue() async throws {
        #expect(DistributedPriorityQueue<Int>.priorityPrefix(0) == "100000000")
        #expect(DistributedPriorityQueue<Int>.priorityPrefix(10) == "10000000A")
        #expect(DistributedPriorityQueue<Int>.priorityPrefix(-1) == "0FFFFFFFF")
        #expect(DistributedPriorityQueue<Int>.priorityPrefix(Int32.min) == "080000000")
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let queue = DistributedPriorityQueue<String>(client: clients[0], path: "/queues/priority")
                let node = try await queue.put("b1", priority: 5)
                #expect(node == "/queues/priority/queue-1000000050000000000")
                try await queue.put("c", priority: 100)
                try await queue.put("a", priority: -3)
                try await queue.put("b2", priority: 5)
                var order: [String] = []
                while let item = try await queue.poll() { order.append(item) }
                #expect(order == ["a", "b1", "b2", "c"])
            }
        }
    }

    @Test("a plain queue- item in a priority queue's directory is taken before every priority item (as documented)")
    func plainItemsBeforePriorityItems() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let path: ZNodePath = "/queues/priority-mixed"
                let priority = DistributedPriorityQueue<String>(client: clients[0], path: path)
                try await priority.put("lowest", priority: Int32.min)
                try await DistributedQueue<String>(client: clients[0], path: path).put("plain")
                try await priority.put("high", priority: 7)
                var order: [String] = []
                while let item = try await priority.poll() { order.append(item) }
                #expect(order == ["plain", "lowest", "high"])
            }
        }
    }

    @Test("the take's transaction commits but its reply is lost: the receipt proves the item is ours", .enabled(if: RecipeServer.targetIsEmbedded, "needs the embedded server's fault injection"))
    func lostTakeReply() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let queue = DistributedQueue<Int>(client: clients[0], path: "/queues/lost-reply")
                for value in 0..<3 { try await queue.put(value) }
                await (try server.faults).loseNextReply { opCode, _ in opCode == .multi }
                #expect(try await queue.take(timeout: .seconds(10)) == 0, "not lost, not skipped")
                #expect(try await queue.take(timeout: .seconds(10)) == 1)
                #expect(try await queue.poll() == 2)
                #expect(try await leftovers(clients[0], "/queues/lost-reply/receipts").isEmpty)
            }
        }
    }

    @Test("a server that refuses every take with a retryable error: take retries within its policy, then throws", .enabled(if: RecipeServer.targetIsEmbedded, "needs the embedded server's fault injection"))
    func takeRefusedOverAndOver() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let queue = DistributedQueue<Int>(client: clients[0], path: "/queues/refused",
                                                  retryPolicy: .boundedTimes(3, delay: .milliseconds(10)))
                try await queue.put(7)
                let attempts = AwaitableLog<OpCode>()
                // SESSIONMOVED, as a member answered when its leader counted the session as another member's.
                await (try server.faults).refuseRequests(with: .sessionMoved) { opCode, _ in
                    guard opCode == .multi else { return false }
                    attempts.append(opCode)
                    return true
                }
                let error = try await withTimeout(.seconds(20)) { () async throws -> ZooKeeperError? in
                    do {
                        _ = try await queue.take(timeout: .seconds(10))
                        return nil
                    } catch let error as ZooKeeperError {
                        return error
                    }
                }
                #expect(error?.code == .sessionMoved)
                #expect(attempts.count == 4, "the first attempt and the policy's 3 retries")
                await (try server.faults).refuseRequests(with: .sessionMoved, where: nil)
                #expect(try await queue.take(timeout: .seconds(10)) == 7, "the item was never taken")
            }
        }
    }

    @Test("delay queue: Curator's |%08X| naming; items come out when due, in due order, not before")
    func delayQueue() async throws {
        #expect(DistributedDelayQueue<Int>.epochText(0x1234) == "|00001234|")
        #expect(DistributedDelayQueue<Int>.epochText(1_700_000_000_000) == "|18BCFE56800|")
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/queues/delay"
                let producer = DistributedDelayQueue<String>(client: clients[0], path: path)
                let consumer = DistributedDelayQueue<String>(client: clients[1], path: path)
                // Due times are wall-clock epochs (the queue's clock), each at least `start` + its delay: an
                // item may come out only once that has passed.
                func nowMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
                let start = nowMilliseconds()
                let soonDue = start + 200, lateDue = start + 600
                try await producer.put("late", delay: .milliseconds(600))
                try await producer.put("soon", delay: .milliseconds(200))
                let node = try await producer.put("now", dueAtEpochMilliseconds: 0)
                #expect(node == "/queues/delay/queue-|00000000|0000000002")
                _ = try await clients[1].sync(path)  // maybe another member: read what the producer put
                #expect(try await consumer.poll() == "now")
                // Nothing else is due yet — unless this (loaded) machine took 200 ms since the puts: then
                // "soon" (never "late") may already come out.
                let early = try await consumer.poll()
                if let early {
                    #expect(early == "soon" && nowMilliseconds() >= soonDue, "only a due item: \(early)")
                }
                var soon = early
                if soon == nil { soon = try await consumer.take(timeout: .seconds(10)) }
                #expect(soon == "soon")
                #expect(nowMilliseconds() >= soonDue, "not before it is due")
                #expect(try await consumer.take(timeout: .seconds(10)) == "late")
                #expect(nowMilliseconds() >= lateDue, "not before it is due")
                await #expect(throws: QueueError.timedOut) { try await consumer.take(timeout: .milliseconds(50)) }
            }
        }
    }
}
