import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

@Suite("DistributedMutex", .timeLimit(.minutes(1)))
struct DistributedMutexTests {
    @Test("8 sessions contend; an independent witness sees at most one holder; no node is left")
    func mutualExclusionUnderContention() async throws {
        try await withRecipeServer { server in
            try await withClients(8, on: server) { clients in
                let path: ZNodePath = "/locks/contention"
                let witness = ExclusionWitness()
                let rounds = 5
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (index, client) in clients.enumerated() {
                        group.addTask {
                            let mutex = DistributedMutex(client: client, path: path)
                            for _ in 0..<rounds {
                                try await mutex.withLock(timeout: .seconds(30)) { lease in
                                    witness.enter(index, token: lease.fencingToken)
                                    // Widen the critical section with a round trip and a yield.
                                    _ = try await client.exists("/")
                                    await Task.yield()
                                    witness.exit()
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(witness.violations == 0)
                #expect(witness.entries == 8 * rounds)
                let tokens = witness.tokens
                #expect(zip(tokens, tokens.dropFirst()).allSatisfy { $0 < $1 }, "fencing tokens strictly increase: \(tokens)")
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("waiters acquire in FIFO order of their nodes")
    func fifoOrder() async throws {
        try await withRecipeServer { server in
            try await withClients(4, on: server) { clients in
                let path: ZNodePath = "/locks/fifo"
                let first = try await DistributedMutex(client: clients[0], path: path).acquire()
                let order = Box<[Int]>([])
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 1...3 {
                        group.addTask {
                            try await DistributedMutex(client: clients[index], path: path).withLock(timeout: .seconds(20)) { _ in
                                order.update { $0.append(index) }
                            }
                        }
                        // Queue them one by one so the sequence order is known.
                        try await waitForChildren(clients[0], path, count: index + 1)
                    }
                    try await first.release()
                    try await group.waitForAll()
                }
                #expect(order.get == [1, 2, 3])
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("a timed-out acquire throws timedOut and leaves no node")
    func timeoutLeavesNoNode() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/locks/timeout"
                let holder = try await DistributedMutex(client: clients[0], path: path).acquire()
                await #expect(throws: LockError.timedOut) {
                    _ = try await DistributedMutex(client: clients[1], path: path).acquire(timeout: .milliseconds(300))
                }
                _ = try await clients[0].sync(path)  // maybe another member: read what clients[1] deleted
                let children = try await clients[0].getChildren(path)
                #expect(children == [holder.path.name])
                try await holder.release()
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("cancelling a waiter removes its node")
    func cancellationLeavesNoNode() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/locks/cancel"
                let holder = try await DistributedMutex(client: clients[0], path: path).acquire()
                let waiter = Task { try await DistributedMutex(client: clients[1], path: path).acquire() }
                try await waitForChildren(clients[0], path, count: 2)
                waiter.cancel()
                let outcome = await waiter.result
                #expect(throws: CancellationError.self) { try outcome.get() }
                _ = try await clients[0].sync(path)  // maybe another member: read what the waiter's client deleted
                #expect(try await clients[0].getChildren(path).count == 1)
                try await holder.release()
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("cancelling an acquire at any point (before, during or after its create) leaves no node")
    func cancellationAtAnyPoint() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/locks/cancel-anywhere"
                let holder = try await DistributedMutex(client: clients[1], path: path).acquire()
                var cancelled = 0
                for yields in 0..<40 {
                    let acquiring = Task { try await DistributedMutex(client: clients[0], path: path).acquire() }
                    for _ in 0..<yields { await Task.yield() }
                    acquiring.cancel()
                    switch await acquiring.result {
                    case .success: Issue.record("acquired while another session holds the lock")
                    case .failure(let error): #expect(error is CancellationError, "\(error)")
                    }
                    cancelled += 1
                    // Each cancelled waiter has removed its node before acquire returned (sync: on an ensemble
                    // the other client's member may not have applied that delete yet).
                    _ = try await clients[1].sync(path)
                    let children = try await clients[1].getChildren(path)
                    #expect(children.count == 1, "after \(yields) yields: \(children)")
                }
                #expect(cancelled == 40)
                try await holder.release()
                #expect(try await leftovers(clients[1], path).isEmpty)
            }
        }
    }

    @Test("withLock is reentrant in the same task and its child tasks: one node")
    func reentrancy() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let client = clients[0]
                let path: ZNodePath = "/locks/reentrant"
                let mutex = DistributedMutex(client: client, path: path)
                let tokens = try await mutex.withLock { outer in
                    let inner = try await mutex.withLock { inner throws -> Int64 in
                        let count = try await client.getChildren(path).count
                        #expect(count == 1)
                        return inner.fencingToken
                    }
                    async let child = mutex.withLock(timeout: .seconds(5)) { lease in lease.fencingToken }
                    let fromChild = try await child
                    #expect(outer.isValid, "an inner release does not release the outer hold")
                    #expect(try await client.getChildren(path).count == 1)
                    return [outer.fencingToken, inner, fromChild]
                }
                #expect(Set(tokens).count == 1)
                #expect(try await leftovers(client, path).isEmpty)
            }
        }
    }

    @Test("a lost create reply: protected mode adopts the node, no leak, no deadlock", .enabled(if: RecipeServer.targetIsEmbedded, "needs the embedded server's fault injection"))
    func lostCreateReply() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/locks/lost-reply"
                // Make the directory first so the lost reply is the lock node's create.
                try await clients[1].create("/locks")
                try await clients[1].create(path, mode: .container)
                await (try server.faults).loseNextReply { op, nodePath in
                    (op == .create || op == .create2) && nodePath?.contains("_c_") == true
                }
                let states = clients[0].connectionStates()
                let lease = try await DistributedMutex(client: clients[0], path: path).acquire(timeout: .seconds(10))
                try await waitForState(states) { $0 == .reconnected }  // the reply really was lost
                let children = try await clients[1].getChildren(path)
                #expect(children.count == 1, "one node, not a ghost plus a second: \(children)")
                #expect(lease.path.string.hasSuffix(children.first ?? "?"))
                try await lease.release()
                // Another session can take the lock at once: nothing is left behind.
                let other = try await DistributedMutex(client: clients[1], path: path).acquire(timeout: .seconds(5))
                #expect(other.fencingToken > lease.fencingToken)
                try await other.release()
                #expect(try await leftovers(clients[1], path).isEmpty)
            }
        }
    }

    @Test("the holder's session expires: its body is cancelled, withLock throws leaseLost, another acquires")
    func holderSessionExpires() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/locks/expiry"
                let entered = Box<Int64?>(nil)
                let cancelled = Box(0)
                let holder = Task {
                    try await DistributedMutex(client: clients[0], path: path).withLock { lease in
                        entered.update { $0 = lease.fencingToken }
                        try await workUntilCancelled(cancelled)
                    }
                }
                try await eventually(within: .seconds(10)) { entered.get != nil }
                try await server.expireSession(clients[0].session)
                let outcome = await holder.result
                #expect(throws: LockError.leaseLost) { try outcome.get() }
                #expect(cancelled.get == 1)
                let next = try await DistributedMutex(client: clients[1], path: path).acquire(timeout: .seconds(10))
                #expect(next.fencingToken > entered.get!)
                try await next.release()
            }
        }
    }

    @Test("a waiter whose connection drops keeps its place")
    func reconnectWhileWaiting() async throws {
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let path: ZNodePath = "/locks/reconnect"
                let holder = try await DistributedMutex(client: clients[0], path: path).acquire()
                let waiter = Task { try await DistributedMutex(client: clients[1], path: path).acquire(timeout: .seconds(20)) }
                try await waitForChildren(clients[0], path, count: 2)
                let waiterNode = LockNames.sorted(try await clients[0].getChildren(path))[1]
                let third = Task { try await DistributedMutex(client: clients[2], path: path).acquire(timeout: .seconds(20)) }
                try await waitForChildren(clients[0], path, count: 3)

                let states = clients[1].connectionStates()
                try await server.dropConnection(of: clients[1])
                try await waitForState(states) { $0 == .reconnected }

                try await holder.release()
                let lease = try await waiter.value
                #expect(lease.path.string.hasSuffix(waiterNode), "the same node: the place in the queue was kept")
                try await lease.release()
                try await third.value.release()
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("an uncontended acquire takes one round trip: the create and the listing are pipelined",
          .enabled(if: RecipeServer.targetIsEmbedded, "needs the embedded server's reply delay"))
    func uncontendedAcquireIsOneRoundTrip() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let path: ZNodePath = "/locks/one-round-trip"
                try await clients[0].create("/locks")
                try await clients[0].create(path)
                // Every reply is held back by `delay`: the acquire's duration counts its round trips.
                let delay = Duration.milliseconds(700)
                await (try server.faults).delayReplies(by: delay)
                let start = ContinuousClock.now
                let lease = try await DistributedMutex(client: clients[0], path: path).acquire(timeout: .seconds(20))
                let elapsed = ContinuousClock.now - start
                await (try server.faults).delayReplies(by: nil)
                #expect(elapsed >= delay)
                #expect(elapsed < delay * 2, "two round trips (create, then getChildren) would take at least \(delay * 2): \(elapsed)")
                try await lease.release()
            }
        }
    }

    @Test("an unrelated child of the lock directory is not a contender, and is reported once")
    func unrelatedChildrenAreReported() async throws {
        try await withRecipeServer { server in
            let warnings = Box<[String]>([])
            var configuration = try ZooKeeperConfiguration(connectionString: server.connectString)
            configuration.logHandler = ZooKeeperLogHandler { level, message in
                if level == .warning { warnings.update { $0.append(message) } }
            }
            let zk = try await ZooKeeperClient.connect(configuration)
            do {
                let path: ZNodePath = "/locks/unrelated"
                try await zk.create("/locks")
                try await zk.create(path)
                // Sorted by whole name, "0-config" would come first for Curator and block it forever.
                try await zk.create(try path.appending("0-config"))
                let lease = try await DistributedMutex(client: zk, path: path).acquire(timeout: .seconds(10))
                #expect(warnings.get.count == 1, "\(warnings.get)")
                #expect(warnings.get.first?.contains("0-config") == true)
                try await lease.release()
                await zk.close()
            } catch {
                await zk.close()
                throw error
            }
        }
    }

    @Test("a release during connection loss is retried until the node is gone; the waiter then acquires",
          .enabled(if: RecipeServer.targetIsEmbedded, "needs the embedded server's partitions"))
    func releaseDuringConnectionLoss() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { others in
                // A short connect timeout: the reconnect right after the heal is not stuck behind a
                // black-holed handshake until the session is presumed expired.
                var configuration = try ZooKeeperConfiguration(connectionString: server.connectString)
                configuration.sessionTimeout = .seconds(20)
                configuration.connectTimeout = .seconds(1)
                try await withZooKeeperClient(configuration) { holder in
                    let clients = [holder, others[0]]
                    let path: ZNodePath = "/locks/release-offline"
                    let lease = try await DistributedMutex(client: clients[0], path: path).acquire(timeout: .seconds(10))
                    let waiter = Task { try await DistributedMutex(client: clients[1], path: path).acquire(timeout: .seconds(30)) }
                    try await waitForChildren(clients[1], path, count: 2)
                    let states = clients[0].connectionStates()
                    let session = try #require(clients[0].session).id
                    await (try server.faults).partition(session: session)
                    try await waitForState(states) { $0 == .suspended }
                    let release = Task { try await lease.release() }
                    // The delete cannot get through while partitioned: the lock stays held.
                    #expect(try await clients[1].getChildren(path).count == 2)
                    await (try server.faults).heal(session: session)
                    try await release.value
                    let next = try await waiter.value
                    #expect(next.fencingToken > lease.fencingToken)
                    #expect(lease.status == .released)
                    #expect(try await clients[1].getChildren(path).count == 1)
                    try await next.release()
                }
            }
        }
    }

    @Test("Curator's sort: by the text after the last lock-, whole name otherwise")
    func curatorOrdering() {
        let names = ["_c_b-lock-0000000003", "_c_a-lock-0000000001", "x", "_c_c-lock-0000000002"]
        #expect(LockNames.sorted(names) == ["_c_a-lock-0000000001", "_c_c-lock-0000000002", "_c_b-lock-0000000003", "x"])
    }
}
