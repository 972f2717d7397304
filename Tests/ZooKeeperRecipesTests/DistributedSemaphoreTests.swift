import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

/// Counts concurrent holders; records any moment with more than `limit`.
final class LimitWitness: Sendable {
    private struct State {
        var holders = 0
        var maxHolders = 0
        var violations = 0
        var entries = 0
    }
    private let state = Mutex(State())
    let limit: Int
    init(limit: Int) { self.limit = limit }

    func enter() {
        state.withLock { state in
            state.holders += 1
            state.entries += 1
            state.maxHolders = max(state.maxHolders, state.holders)
            if state.holders > limit { state.violations += 1 }
        }
    }
    func exit() { state.withLock { $0.holders -= 1 } }
    var violations: Int { state.withLock { $0.violations } }
    var entries: Int { state.withLock { $0.entries } }
    var maxHolders: Int { state.withLock { $0.maxHolders } }
}

@Suite("DistributedSemaphore", .timeLimit(.minutes(1)))
struct DistributedSemaphoreTests {
    @Test("6 sessions share 2 leases: never more than 2 holders, both used at once, no node left")
    func atMostNLeases() async throws {
        try await withRecipeServer { server in
            try await withClients(6, on: server) { clients in
                let path: ZNodePath = "/sem/contention"
                let witness = LimitWitness(limit: 2)
                let rounds = 4
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for client in clients {
                        group.addTask {
                            let semaphore = DistributedSemaphore(client: client, path: path, maxLeases: 2)
                            for _ in 0..<rounds {
                                try await semaphore.withLease(timeout: .seconds(30)) { lease in
                                    witness.enter()
                                    #expect(lease.isValid)
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
                #expect(witness.entries == 6 * rounds)
                let semaphore = DistributedSemaphore(client: clients[0], path: path, maxLeases: 2)
                #expect(try await leftovers(clients[0], semaphore.leasesPath).isEmpty)
                #expect(try await leftovers(clients[0], semaphore.locksPath).isEmpty)
            }
        }
    }

    @Test("N holders at once: 3 leases are held concurrently by 3 sessions; a 4th waits")
    func leasesHeldConcurrently() async throws {
        try await withRecipeServer { server in
            try await withClients(4, on: server) { clients in
                let path: ZNodePath = "/sem/concurrent"
                let semaphores = clients.map { DistributedSemaphore(client: $0, path: path, maxLeases: 3) }
                var leases: [LockLease] = []
                for index in 0..<3 { leases.append(try await semaphores[index].acquire(timeout: .seconds(5))) }
                _ = try await clients[0].sync(semaphores[0].leasesPath)  // maybe another member: read what clients[1] and clients[2] created
                #expect(try await clients[0].getChildren(semaphores[0].leasesPath).count == 3)
                let fourth = Task { try await semaphores[3].acquire(timeout: .seconds(20)) }
                // The fourth holds the internal mutex and waits on the leases directory.
                try await waitForChildren(clients[0], semaphores[0].leasesPath, count: 4)
                try await leases[1].release()
                let lease = try await fourth.value
                #expect(lease.fencingToken > leases[2].fencingToken)
                for held in [leases[0], leases[2], lease] { try await held.release() }
                #expect(try await leftovers(clients[0], semaphores[0].leasesPath).isEmpty)
            }
        }
    }

    @Test("2 leases, 4 waiters: releasing the first holder admits a waiter promptly, and so does releasing the last")
    func anyReleaseAdmits() async throws {
        try await withRecipeServer { server in
            try await withClients(6, on: server) { clients in
                let path: ZNodePath = "/sem/any-release"
                let semaphores = clients.map { DistributedSemaphore(client: $0, path: path, maxLeases: 2) }
                let first = try await semaphores[0].acquire(timeout: .seconds(5))
                let last = try await semaphores[1].acquire(timeout: .seconds(5))
                let admitted = Box<[LockLease]>([])
                let waiters = (2..<6).map { index in
                    Task {
                        let lease = try await semaphores[index].acquire(timeout: .seconds(30))
                        admitted.update { $0.append(lease) }
                    }
                }
                // One waiter holds the internal mutex with its lease node in `leases`; three queue for the mutex.
                try await waitForChildren(clients[0], semaphores[0].leasesPath, count: 3)
                try await waitForChildren(clients[0], semaphores[0].locksPath, count: 4)
                // The first holder goes (not the waiter's immediate predecessor): a waiter is admitted.
                try await first.release()
                try await eventually(within: .seconds(5)) { admitted.get.count == 1 }
                try await waitForChildren(clients[0], semaphores[0].leasesPath, count: 3)
                // Now the newest holder goes (not the node `maxLeases` places before the waiter): admitted too.
                try await admitted.get[0].release()
                try await eventually(within: .seconds(5)) { admitted.get.count == 2 }
                // The rest, one release at a time.
                try await last.release()
                try await eventually(within: .seconds(5)) { admitted.get.count == 3 }
                try await admitted.get[1].release()
                try await eventually(within: .seconds(5)) { admitted.get.count == 4 }
                for waiter in waiters { try await waiter.value }
                _ = try await clients[0].sync(semaphores[0].leasesPath)  // maybe another member: read what the waiters' clients did
                #expect(try await clients[0].getChildren(semaphores[0].leasesPath).count == 2)
                for lease in admitted.get[2...] { try await lease.release() }
                #expect(try await leftovers(clients[0], semaphores[0].leasesPath).isEmpty)
                #expect(try await leftovers(clients[0], semaphores[0].locksPath).isEmpty)
            }
        }
    }

    @Test("a timed-out and a cancelled acquire leave no lease node and release the internal mutex")
    func timeoutAndCancellation() async throws {
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let path: ZNodePath = "/sem/timeout"
                let semaphores = clients.map { DistributedSemaphore(client: $0, path: path, maxLeases: 1) }
                let holder = try await semaphores[0].acquire()
                await #expect(throws: LockError.timedOut) { _ = try await semaphores[1].acquire(timeout: .milliseconds(300)) }
                _ = try await clients[0].sync(semaphores[0].leasesPath)  // maybe another member: read what clients[1] deleted
                #expect(try await clients[0].getChildren(semaphores[0].leasesPath).count == 1)
                #expect(try await leftovers(clients[0], semaphores[0].locksPath).isEmpty)

                let waiter = Task { try await semaphores[1].acquire() }
                let queued = Task { try await semaphores[2].acquire(timeout: .seconds(20)) }
                try await waitForChildren(clients[0], semaphores[0].leasesPath, count: 2)  // waiter holds the mutex
                try await waitForChildren(clients[0], semaphores[0].locksPath, count: 2)   // queued waits for it
                waiter.cancel()
                await #expect(throws: CancellationError.self) { _ = try await waiter.value }
                try await holder.release()
                let lease = try await queued.value
                _ = try await clients[0].sync(semaphores[0].leasesPath)  // maybe another member: read what clients[1] and clients[2] did
                #expect(try await clients[0].getChildren(semaphores[0].leasesPath) == [lease.path.name])
                try await lease.release()
                #expect(try await leftovers(clients[0], semaphores[0].leasesPath).isEmpty)
                #expect(try await leftovers(clients[0], semaphores[0].locksPath).isEmpty)
            }
        }
    }

    @Test("acquiring several leases is all or nothing")
    func multipleLeasesAllOrNothing() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/sem/multi"
                let semaphores = clients.map { DistributedSemaphore(client: $0, path: path, maxLeases: 3) }
                let two = try await semaphores[0].acquire(2, timeout: .seconds(5))
                await #expect(throws: LockError.timedOut) { _ = try await semaphores[1].acquire(2, timeout: .milliseconds(300)) }
                // sync: the other client's failed attempt cleaned up through another member, maybe.
                _ = try await clients[0].sync(semaphores[0].leasesPath)
                #expect(try await clients[0].getChildren(semaphores[0].leasesPath).count == 2)
                let one = try await semaphores[1].acquire(timeout: .seconds(5))
                for lease in two + [one] { try await lease.release() }
                #expect(try await leftovers(clients[0], semaphores[0].leasesPath).isEmpty)
            }
        }
    }

    @Test("the holder's session expires: its lease is lost and a waiter gets it")
    func holderSessionExpires() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/sem/expiry"
                let holder = try await DistributedSemaphore(client: clients[0], path: path, maxLeases: 1).acquire()
                let waiter = Task { try await DistributedSemaphore(client: clients[1], path: path, maxLeases: 1).acquire(timeout: .seconds(20)) }
                try await waitForChildren(clients[1], try path.appending("leases"), count: 2)
                try await server.expireSession(clients[0].session)
                let lease = try await waiter.value
                await holder.waitForEnd()
                #expect(holder.status == .lost)
                #expect(lease.fencingToken > holder.fencingToken)
                try await lease.release()
            }
        }
    }

    @Test("the session of the waiter holding the internal mutex expires: others are not blocked")
    func waiterSessionExpires() async throws {
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let path: ZNodePath = "/sem/waiter-expiry"
                let semaphores = clients.map { DistributedSemaphore(client: $0, path: path, maxLeases: 1) }
                let holder = try await semaphores[0].acquire()
                let waiter = Task { try await semaphores[1].acquire(timeout: .seconds(20)) }
                try await waitForChildren(clients[0], semaphores[0].leasesPath, count: 2)  // it holds the mutex
                let third = Task { try await semaphores[2].acquire(timeout: .seconds(20)) }
                try await waitForChildren(clients[0], semaphores[0].locksPath, count: 2)
                try await server.expireSession(clients[1].session)
                let outcome = await waiter.result
                switch outcome {
                case .success(let lease): Issue.record("the expired waiter acquired: \(lease.path)")
                case .failure(let error):
                    #expect((error as? ZooKeeperError)?.isSessionTerminal == true, "\(error)")
                }
                try await holder.release()
                let lease = try await third.value
                _ = try await clients[0].sync(semaphores[0].leasesPath)  // maybe another member: read the expiry and what clients[2] did
                #expect(try await clients[0].getChildren(semaphores[0].leasesPath).count == 1)
                try await lease.release()
                #expect(try await leftovers(clients[0], semaphores[0].leasesPath).isEmpty)
                #expect(try await leftovers(clients[0], semaphores[0].locksPath).isEmpty)
            }
        }
    }

    @Test("a lost lease-create reply (CURATOR-315): protected mode adopts the node, no orphaned lease", .enabled(if: RecipeServer.targetIsEmbedded, "needs the embedded server's fault injection"))
    func lostLeaseCreateReply() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/sem/lost-reply"
                let semaphore = DistributedSemaphore(client: clients[0], path: path, maxLeases: 1)
                // Make the directories first so the lost reply is the lease node's create.
                try await clients[1].create("/sem")
                try await clients[1].create(path)
                try await clients[1].create(semaphore.leasesPath)
                await (try server.faults).loseNextReply { op, nodePath in
                    (op == .create || op == .create2) && nodePath?.contains("-lease-") == true
                }
                let states = clients[0].connectionStates()
                let lease = try await semaphore.acquire(timeout: .seconds(10))
                try await waitForState(states) { $0 == .reconnected }  // the reply really was lost
                let leases = try await clients[1].getChildren(semaphore.leasesPath)
                #expect(leases.count == 1, "one lease node, not an orphan plus a second: \(leases)")
                #expect(lease.path.string.hasSuffix(leases.first ?? "?"))
                try await lease.release()
                // The single lease is free for another session at once.
                let other = try await DistributedSemaphore(client: clients[1], path: path, maxLeases: 1).acquire(timeout: .seconds(5))
                try await other.release()
                #expect(try await leftovers(clients[1], semaphore.leasesPath).isEmpty)
            }
        }
    }

    @Test("DistributedSemaphoreMutex: exclusive across sessions, not reentrant")
    func semaphoreMutex() async throws {
        try await withRecipeServer { server in
            try await withClients(4, on: server) { clients in
                let path: ZNodePath = "/sem/mutex"
                let witness = ExclusionWitness()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (index, client) in clients.enumerated() {
                        group.addTask {
                            for _ in 0..<4 {
                                try await DistributedSemaphoreMutex(client: client, path: path).withLock(timeout: .seconds(30)) { lease in
                                    witness.enter(index, token: lease.fencingToken)
                                    _ = try await client.exists("/")
                                    witness.exit()
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(witness.violations == 0)
                #expect(witness.entries == 16)
                let mutex = DistributedSemaphoreMutex(client: clients[0], path: path)
                _ = try await mutex.withLock(timeout: .seconds(5)) { _ in
                    await #expect(throws: LockError.timedOut) { _ = try await mutex.acquire(timeout: .milliseconds(200)) }
                }
                #expect(try await leftovers(clients[0], mutex.semaphore.leasesPath).isEmpty)
            }
        }
    }
}

@Suite("DistributedMultiLock", .timeLimit(.minutes(1)))
struct DistributedMultiLockTests {
    func exclusion() async throws {
        try await withRecipeServer { server in
            try await withClients(4, on: server) { clients in
                let paths: [ZNodePath] = ["/multi/a", "/multi/b"]
                let witness = ExclusionWitness()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (index, client) in clients.enumerated() {
                        group.addTask {
                            let both = DistributedMultiLock(client: client, paths: paths)
                            for _ in 0..<3 {
                                try await both.withLock(timeout: .seconds(30)) { lease in
                                    #expect(lease.leases.count == 2 && lease.isValid)
                                    witness.enter(index, token: lease.leases[0].fencingToken)
                                    _ = try await client.exists("/")
                                    witness.exit()
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(witness.violations == 0)
                #expect(witness.entries == 12)
                for path in paths { #expect(try await leftovers(clients[0], path).isEmpty) }
            }
        }
    }

    @Test("all or nothing: when a later lock times out, the earlier ones are released")
    func allOrNothing() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let a: ZNodePath = "/multi2/a", b: ZNodePath = "/multi2/b"
                let holderOfB = try await DistributedSemaphoreMutex(client: clients[1], path: b).acquire()
                let both = DistributedMultiLock([
                    DistributedMutex(client: clients[0], path: a),
                    DistributedSemaphoreMutex(client: clients[0], path: b),
                ])
                await #expect(throws: LockError.timedOut) { _ = try await both.acquire(timeout: .milliseconds(300)) }
                #expect(try await leftovers(clients[0], a).isEmpty, "a was released")
                // a is free for another session at once.
                let other = try await DistributedMutex(client: clients[1], path: a).acquire(timeout: .seconds(1))
                try await other.release()
                try await holderOfB.release()
                let lease = try await both.acquire(timeout: .seconds(5))
                try await lease.release()
                #expect(try await leftovers(clients[0], a).isEmpty)
            }
        }
    }
}
