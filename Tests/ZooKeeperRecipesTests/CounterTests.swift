import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

@Suite("Counters", .timeLimit(.minutes(2)))
struct CounterTests {
    @Test("byte layouts equal Curator's: 4-byte and 8-byte big-endian")
    func byteLayout() throws {
        #expect(CounterCoding.bytes(of: Int32(1)) == [0, 0, 0, 1])
        #expect(CounterCoding.bytes(of: Int32(-2)) == [0xFF, 0xFF, 0xFF, 0xFE])
        #expect(CounterCoding.bytes(of: Int32(0x0102_0304)) == [1, 2, 3, 4])
        #expect(CounterCoding.bytes(of: Int64(0x0102_0304_0506_0708)) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(CounterCoding.bytes(of: Int64(-1)) == Array(repeating: 0xFF, count: 8))
        #expect(try CounterCoding.int32(from: [0xFF, 0xFF, 0xFF, 0xFE]) == -2)
        #expect(try CounterCoding.int64(from: [0x80, 0, 0, 0, 0, 0, 0, 0]) == Int64.min)
        #expect(try CounterCoding.int64(from: []) == 0)
        #expect(throws: CounterError.badData(length: 3, expected: 4)) { try CounterCoding.int32(from: [1, 2, 3]) }
    }

    @Test("DistributedAtomicLong: 8 sessions × 50 increments → exactly 400; node holds 8 BE bytes")
    func atomicLongUnderContention() async throws {
        try await withEmbeddedServer { server in
            try await withClients(8, on: server) { clients in
                let path: ZNodePath = "/counters/long"
                let policy = RetryPolicy(maxRetries: 200, baseDelay: .milliseconds(1), maxDelay: .milliseconds(10))
                let posts = try await withThrowingTaskGroup(of: [Int64].self) { group in
                    for client in clients {
                        group.addTask {
                            let counter = DistributedAtomicLong(client: client, path: path, retryPolicy: policy)
                            var posts: [Int64] = []
                            while posts.count < 50 {
                                let result = try await counter.increment()
                                if result.succeeded {
                                    #expect(result.postValue == result.preValue + 1)
                                    posts.append(result.postValue)
                                }
                            }
                            return posts
                        }
                    }
                    return try await group.reduce(into: [Int64]()) { $0 += $1 }
                }
                #expect(posts.sorted() == Array(1...400), "every increment landed once, each post value unique")
                let (data, _) = try await clients[0].getData(path)
                #expect(data == [0, 0, 0, 0, 0, 0, 0x01, 0x90])
                let counter = DistributedAtomicLong(client: clients[0], path: path)
                #expect(try await counter.get().postValue == 400)
                #expect(try await counter.compareAndSet(expected: 1, newValue: 7).succeeded == false)
                let swapped = try await counter.compareAndSet(expected: 400, newValue: -5)
                #expect(swapped == AtomicValue(succeeded: true, preValue: 400, postValue: -5))
                #expect(try await counter.subtract(5).postValue == -10)
                #expect(try await counter.initialize(3) == false)
                #expect(try await DistributedAtomicLong(client: clients[1], path: "/counters/fresh").initialize(3))
                #expect(try await clients[1].getData("/counters/fresh").data == [0, 0, 0, 0, 0, 0, 0, 3])
            }
        }
    }

    @Test("SharedCount: seed, trySetCount compare-and-set, changes stream across sessions, 4 BE bytes")
    func sharedCount() async throws {
        try await withEmbeddedServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/counters/shared"
                let a = SharedCount(client: clients[0], path: path, seedValue: 7)
                let b = SharedCount(client: clients[1], path: path, seedValue: 99)
                try await a.start()
                try await b.start()
                #expect(a.count == 7)
                #expect(b.count == 7, "the seed applies only to the creator")
                #expect(try await clients[0].getData(path).data == [0, 0, 0, 7])

                let changes = b.changes()
                let stale = a.versionedValue!
                #expect(try await a.trySetCount(expected: stale, newValue: 8))
                #expect(try await a.trySetCount(expected: stale, newValue: 9) == false, "stale version loses")
                #expect(a.count == 8)
                try await a.setCount(-1)
                #expect(try await clients[1].getData(path).data == [0xFF, 0xFF, 0xFF, 0xFF])
                let seen = try await withTimeout(.seconds(10)) { () -> [Int32] in
                    var seen: [Int32] = []
                    for await value in changes {
                        seen.append(value)
                        if value == -1 { break }
                    }
                    return seen
                }
                #expect(seen.last == -1)
                #expect(Set(seen).isSubset(of: [8, -1]))
                try await eventually(within: .seconds(10)) { b.count == -1 }
                a.close()
                b.close()
            }
        }
    }

    @Test("UniqueIDGenerator: 8 sessions × 50 IDs are unique and leave no nodes")
    func uniqueIDs() async throws {
        try await withEmbeddedServer { server in
            try await withClients(8, on: server) { clients in
                let path: ZNodePath = "/ids/orders"
                let ids = try await withThrowingTaskGroup(of: [Int64].self) { group in
                    for client in clients {
                        group.addTask {
                            let generator = UniqueIDGenerator(client: client, path: path)
                            var mine: [Int64] = []
                            for _ in 0..<50 { mine.append(try await generator.next()) }
                            #expect(mine == mine.sorted(), "one generator's IDs increase")
                            return mine
                        }
                    }
                    return try await group.reduce(into: [Int64]()) { $0 += $1 }
                }
                #expect(Set(ids).count == 400)
                #expect(ids.sorted() == Array(0..<400), "no retries here, so no gaps")
                #expect(try await clients[0].getChildren(path).isEmpty)
            }
        }
    }
}
