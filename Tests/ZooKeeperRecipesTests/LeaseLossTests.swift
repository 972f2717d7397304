import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

/// How a held lease learns it is gone (its node deleted from outside) and what it leaves behind.
@Suite("Lease loss", .timeLimit(.minutes(1)))
struct LeaseLossTests {
    @Test("the held lock node is deleted from outside: the lease is lost and the withLock body is cancelled")
    func lockNodeDeletedFromOutside() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/locks/cleared"
                let entered = Box<ZNodePath?>(nil)
                let cancelled = Box(0)
                let holder = Task {
                    try await DistributedMutex(client: clients[0], path: path).withLock { lease in
                        entered.update { $0 = lease.path }
                        try await workUntilCancelled(cancelled)
                    }
                }
                defer { holder.cancel() }
                try await eventually(within: .seconds(10)) { entered.get != nil }
                // An operator clears the "stuck" lock.
                try await clients[1].delete(entered.get!)
                try await eventually(within: .seconds(10)) { cancelled.get == 1 }
                let outcome = await holder.result
                #expect(throws: LockError.leaseLost) { try outcome.get() }
                #expect(cancelled.get == 1)
                let next = try await DistributedMutex(client: clients[1], path: path).acquire(timeout: .seconds(5))
                try await next.release()
            }
        }
    }

    @Test("a semaphore lease and a read lease whose node is deleted from outside are lost")
    func leaseNodesDeletedFromOutside() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let semaphore = DistributedSemaphore(client: clients[0], path: "/semaphores/cleared", maxLeases: 2)
                let lease = try await semaphore.acquire(timeout: .seconds(5))
                let read = try await DistributedReadWriteLock(client: clients[0], path: "/locks/rw-cleared")
                    .readLock.acquire(timeout: .seconds(5))
                for held in [lease, read] {
                    #expect(held.status == .held)
                    try await clients[1].delete(held.path)
                    try await withTimeout(.seconds(10)) { await held.waitForEnd() }
                    #expect(held.status == .lost)
                    try await held.release()
                    #expect(held.status == .lost, "a release after the loss does not turn it into released")
                }
            }
        }
    }

    @Test("our own release deletes the node too: it ends as released, never lost")
    func ownReleaseIsReleased() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let mutex = DistributedMutex(client: clients[0], path: "/locks/own-release")
                for _ in 0..<20 {
                    let lease = try await mutex.acquire(timeout: .seconds(5))
                    let changes = lease.statusChanges
                    try await lease.release()
                    #expect(lease.status == .released)
                    let seen = try await withTimeout(.seconds(5)) { () -> [LeaseStatus] in
                        var seen: [LeaseStatus] = []
                        for await status in changes { seen.append(status) }
                        return seen
                    }
                    #expect(seen == [.held, .released])
                }
                let nested = try await mutex.withLock(timeout: .seconds(5)) { outer in
                    try await mutex.withLock(timeout: .seconds(5)) { _ in outer }
                }
                #expect(nested.status == .released)
            }
        }
    }

    @Test("a lease lost to presumedExpired on a session that then comes back: its node is deleted, others acquire",
          .enabled(if: RecipeServer.targetIsEmbedded, "needs the embedded server's pause"))
    func lostLeaseOfLiveSessionLeavesNoNode() async throws {
        try await withRecipeServer { server in
            // A 4 s session and 1 s connect attempts: the pause outlasts the session timeout, so the
            // client presumes expiry; the paused server expires nobody, so the same session comes back.
            var configuration = try ZooKeeperConfiguration(connectionString: server.connectString)
            configuration.sessionTimeout = .seconds(4)
            configuration.connectTimeout = .seconds(1)
            try await withZooKeeperClient(configuration) { holder in
                try await withClients(1, on: server) { others in
                    let clients = [holder, others[0]]
                    let path: ZNodePath = "/locks/presumed-expired"
                    let lease = try await DistributedMutex(client: clients[0], path: path).acquire(timeout: .seconds(5))
                    let session = clients[0].session?.id
                    let states = clients[0].connectionStates()
                    await (try server.faults).pause(for: .seconds(6))
                    try await waitForState(states, within: .seconds(15)) { $0 == .presumedExpired }
                    try await withTimeout(.seconds(5)) { await lease.waitForEnd() }
                    #expect(lease.status == .lost)
                    try await waitForState(states, within: .seconds(15)) { $0 == .reconnected }
                    #expect(clients[0].session?.id == session, "the same session came back")
                    // Left behind, the node would block every other contender for the session's lifetime.
                    let node = lease.path
                    // The other client sat through the pause too: its own connection may still be recovering.
                    try await eventually(within: .seconds(10)) {
                        do { return try await clients[1].exists(node) == nil } catch let error as ZooKeeperError where error.isRetryable {
                            return false
                        }
                    }
                    let next = try await DistributedMutex(client: clients[1], path: path).acquire(timeout: .seconds(5))
                    try await next.release()
                    try await lease.release()
                    #expect(lease.status == .lost)
                }
            }
        }
    }
}
