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
        try await withRecipeServer { server in
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
                _ = try await clients[0].sync(path)  // maybe another member: read what the other clients wrote last
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
        try await withRecipeServer { server in
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
                _ = try await clients[1].sync(path)  // maybe another member: read what clients[0] wrote
                #expect(try await clients[1].getData(path).data == [0xFF, 0xFF, 0xFF, 0xFF])
                let seen = try await withTimeout(.seconds(10)) { () -> [Int32] in
                    var seen: [Int32] = []
                    for await value in changes {
                        seen.append(value)
                        if value == -1 { break }
                    }
                    return seen
                }
                #expect(seen.first == 7, "a new stream starts with the current value")
                #expect(seen.last == -1)
                #expect(Set(seen).isSubset(of: [7, 8, -1]))
                try await eventually(within: .seconds(10)) { b.count == -1 }
                await a.close()
                await b.close()
            }
        }
    }

    @Test("UniqueIDGenerator: 8 sessions × 50 IDs are unique and leave no nodes")
    func uniqueIDs() async throws {
        try await withRecipeServer { server in
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
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("DistributedAtomicLong through connection drops: never double-applied; unknown outcomes are reported")
    func atomicLongThroughDrops() async throws {
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let path: ZNodePath = "/counters/drops"
                let policy = RetryPolicy(maxRetries: 200, baseDelay: .milliseconds(1), maxDelay: .milliseconds(10))
                let outcome = try await withThrowingTaskGroup(of: (posts: [Int64], unknown: Int).self) { group in
                    for client in clients.prefix(2) {
                        group.addTask {
                            let counter = DistributedAtomicLong(client: client, path: path, retryPolicy: policy)
                            var posts: [Int64] = [], unknown = 0
                            while posts.count + unknown < 100 {
                                do {
                                    let result = try await counter.increment()
                                    if result.succeeded { posts.append(result.postValue) }
                                } catch let error as ZooKeeperError where error.isRetryable {
                                    unknown += 1
                                }
                            }
                            return (posts, unknown)
                        }
                    }
                    group.addTask {
                        for _ in 0..<3 {
                            try await eventually(within: .seconds(10)) {
                                clients[0].connectionState.isConnected && clients[1].connectionState.isConnected
                            }
                            try await server.dropConnection(of: clients[0])
                            try await server.dropConnection(of: clients[1])
                        }
                        return ([], 0)
                    }
                    return try await group.reduce(into: (posts: [Int64](), unknown: 0)) { $0.posts += $1.posts; $0.unknown += $1.unknown }
                }
                _ = try await clients[2].sync(path)  // maybe another member: read what clients[0] and clients[1] wrote
                let final = try await DistributedAtomicLong(client: clients[2], path: path).get().postValue
                #expect(Set(outcome.posts).count == outcome.posts.count, "no post value handed out twice")
                #expect(final >= Int64(outcome.posts.count))
                #expect(final <= Int64(outcome.posts.count + outcome.unknown), "nothing applied twice")
            }
        }
    }

    @Test("SharedCount picks up a change made while its connection was down", .enabled(if: RecipeServer.targetIsEmbedded, "needs the embedded server's fault injection"))
    func sharedCountAfterReconnect() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/counters/reconnect"
                let writer = SharedCount(client: clients[0], path: path, seedValue: 1)
                let reader = SharedCount(client: clients[1], path: path, seedValue: 1)
                try await writer.start()
                try await reader.start()
                let changes = reader.changes()
                await (try server.faults).partition(session: clients[1].session!.id)
                try await writer.setCount(42)
                await (try server.faults).heal(session: clients[1].session!.id)
                let seen = try await withTimeout(.seconds(10)) { () -> Int32? in
                    for await value in changes where value == 42 { return value }
                    return nil
                }
                #expect(seen == 42)
                #expect(reader.count == 42)
                await writer.close()
                await reader.close()
            }
        }
    }

    @Test("UniqueIDGenerator after its session expires throws; a new session continues the sequence")
    func uniqueIDsAfterExpiry() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/ids/expiry"
                let first = UniqueIDGenerator(client: clients[0], path: path)
                let firstID = try await first.next()
                #expect(firstID == 0)
                try await server.expireSession(clients[0].session)
                await #expect(throws: ZooKeeperError.self) { try await first.next() }
                let id = try await UniqueIDGenerator(client: clients[1], path: path).next()
                // On an ensemble the expiry is a takeover through another member: a next() already on its way
                // may still be applied (its reply lost), using up 1. The sequence continues either way.
                #expect(id == 1 || (id == 2 && !RecipeServer.targetIsEmbedded), "id \(id)")
            }
        }
    }

    @Test("DistributedAtomicLong: a write whose reply is lost throws connectionLoss instead of applying twice", .enabled(if: RecipeServer.targetIsEmbedded, "needs the embedded server's fault injection"))
    func atomicLongLostReply() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let counter = DistributedAtomicLong(client: clients[0], path: "/counters/lost-reply")
                let first = try await counter.increment()
                #expect(first.postValue == 1)
                await (try server.faults).loseNextReply { opCode, _ in opCode == .setData }
                await #expect(throws: ZooKeeperError.self) { try await counter.increment() }
                let after = try await counter.get()
                #expect(after.postValue == 2, "the write landed once")
            }
        }
    }
}
