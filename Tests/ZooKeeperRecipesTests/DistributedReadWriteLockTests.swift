import Synchronization
import Testing
import ZooKeeperClient
@testable import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

/// An independent witness for a read/write lock: any writer overlapping anything is a violation.
final class ReadWriteWitness: Sendable {
    private struct State {
        var readers = 0
        var writers = 0
        var violations: [String] = []
        var maxReaders = 0
        var reads = 0
        var writes = 0
    }
    private let state = Mutex(State())

    func enterRead() {
        state.withLock { state in
            if state.writers != 0 { state.violations.append("reader while \(state.writers) writer(s)") }
            state.readers += 1
            state.reads += 1
            state.maxReaders = max(state.maxReaders, state.readers)
        }
    }
    func exitRead() { state.withLock { $0.readers -= 1 } }
    func enterWrite() {
        state.withLock { state in
            if state.writers != 0 || state.readers != 0 {
                state.violations.append("writer while \(state.writers) writer(s), \(state.readers) reader(s)")
            }
            state.writers += 1
            state.writes += 1
        }
    }
    func exitWrite() { state.withLock { $0.writers -= 1 } }

    var violations: [String] { state.withLock { $0.violations } }
    var maxReaders: Int { state.withLock { $0.maxReaders } }
    var reads: Int { state.withLock { $0.reads } }
    var writes: Int { state.withLock { $0.writes } }
}

@Suite("DistributedReadWriteLock", .timeLimit(.minutes(1)))
struct DistributedReadWriteLockTests {
    @Test("N readers in N sessions hold the read lock at the same time")
    func readersShare() async throws {
        try await withRecipeServer { server in
            try await withClients(5, on: server) { clients in
                let path: ZNodePath = "/rw/share"
                let inside = Box(0)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for client in clients {
                        group.addTask {
                            try await DistributedReadWriteLock(client: client, path: path).readLock
                                .withLock(timeout: .seconds(10)) { _ in
                                    inside.update { $0 += 1 }
                                    // Everyone must be inside together: a barrier, bounded.
                                    try await eventually(within: .seconds(10)) { inside.get == clients.count }
                                }
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(inside.get == 5)
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("6 sessions mix reads and writes: no reader while a writer holds, never two writers, no node left")
    func exclusionUnderContention() async throws {
        try await withRecipeServer { server in
            try await withClients(6, on: server) { clients in
                let path: ZNodePath = "/rw/contention"
                let witness = ReadWriteWitness()
                let rounds = 6
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (index, client) in clients.enumerated() {
                        group.addTask {
                            let lock = DistributedReadWriteLock(client: client, path: path)
                            for round in 0..<rounds {
                                if (index + round) % 3 == 0 {
                                    try await lock.writeLock.withLock(timeout: .seconds(30)) { _ in
                                        witness.enterWrite()
                                        _ = try await client.exists("/")
                                        await Task.yield()
                                        witness.exitWrite()
                                    }
                                } else {
                                    try await lock.readLock.withLock(timeout: .seconds(30)) { _ in
                                        witness.enterRead()
                                        _ = try await client.exists("/")
                                        await Task.yield()
                                        witness.exitRead()
                                    }
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(witness.violations.isEmpty, "\(witness.violations)")
                #expect(witness.reads + witness.writes == 6 * rounds)
                #expect(witness.writes == 12)
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("fairness: a reader queued after a waiting writer waits for it, though a reader holds")
    func readerWaitsForQueuedWriter() async throws {
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let path: ZNodePath = "/rw/fair"
                let locks = clients.map { DistributedReadWriteLock(client: $0, path: path) }
                let firstReader = try await locks[0].readLock.acquire()
                let order = Box<[String]>([])
                let writer = Task {
                    try await locks[1].writeLock.withLock(timeout: .seconds(20)) { _ in order.update { $0.append("W") } }
                }
                try await waitForChildren(clients[0], path, count: 2)
                // A reader behind the writer cannot get in while the writer waits (bounded probe).
                await #expect(throws: LockError.timedOut) {
                    _ = try await locks[2].readLock.acquire(timeout: .milliseconds(300))
                }
                #expect(try await leftovers(clients[0], path).count == 2, "the timed-out reader left no node")
                let reader = Task {
                    try await locks[2].readLock.withLock(timeout: .seconds(20)) { _ in order.update { $0.append("R") } }
                }
                try await waitForChildren(clients[0], path, count: 3)
                try await firstReader.release()
                try await writer.value
                try await reader.value
                #expect(order.get == ["W", "R"])
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("herd-free policies: a reader watches the nearest writer before it, a writer its predecessor")
    func watchTargets() {
        let names = ["_c_a-__READ__0000000001", "_c_b-__WRIT__0000000002", "_c_c-__READ__0000000003",
                     "_c_d-__WRIT__0000000004", "_c_e-__READ__0000000005", "_c_f-__READ__0000000006"]
        let ordered = DistributedReadWriteLock.sorted(names.reversed())
        #expect(ordered == names)
        let reader = { (index: Int) in
            LockContenders.decide(.reader(writerNames: ["__WRIT__"]), maxLeases: .max, ordered: ordered, index: index)
        }
        #expect(reader(0) == .holds)
        #expect(reader(2) == .watch(names[1]))
        #expect(reader(4) == .watch(names[3]), "the nearest writer, not the first")
        #expect(reader(5) == .watch(names[3]))
        let writer = { (index: Int) in LockContenders.decide(.leases, maxLeases: 1, ordered: ordered, index: index) }
        #expect(writer(1) == .watch(names[0]))
        #expect(writer(3) == .watch(names[2]))
    }

    @Test("the semaphore's and the latch's policies: count holds by the directory's size, every child counted; the leader's follower watches its predecessor")
    func countAndLeaderTurns() {
        let ordered = ["_c_a-lease-0000000001", "_c_b-lease-0000000002", "_c_c-lease-0000000003"]
        let count = { (index: Int, unrelated: Int) in
            LockContenders.decide(.count, maxLeases: 3, ordered: ordered, index: index, unrelated: unrelated)
        }
        #expect(count(2, 0) == .holds)
        #expect(count(2, 1) == .watchChildren, "a child that is no lease node still takes a lease, as in Curator")
        #expect(count(0, 1) == .watchChildren, "by size, not by place")
        #expect(LockContenders.decide(.leader, maxLeases: 1, ordered: ordered, index: 0) == .holds)
        #expect(LockContenders.decide(.leader, maxLeases: 1, ordered: ordered, index: 2) == .watch(ordered[1]))
    }

    @Test("downgrade: a write holder takes the read lock at once; a queued writer still waits for the read")
    func downgrade() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/rw/downgrade"
                let lock = DistributedReadWriteLock(client: clients[0], path: path)
                let other = DistributedReadWriteLock(client: clients[1], path: path)
                let readReleased = Box(false)
                let queuedWriter = Box<Task<Bool, any Error>?>(nil)
                let read = try await lock.writeLock.withLock(timeout: .seconds(5)) { write in
                    let read = try await lock.readLock.acquire(timeout: .seconds(1))
                    #expect(read.isValid)
                    let writerName = write.path.name
                    let readName = read.path.name
                    #expect(readName.hasSuffix(String(writerName.suffix(10))), "the read node reuses the writer's sequence")
                    queuedWriter.update {
                        $0 = Task {
                            try await other.writeLock.withLock(timeout: .seconds(20)) { _ in readReleased.get }
                        }
                    }
                    try await waitForChildren(clients[0], path, count: 3)
                    return read
                }
                // The write lock is released; our read node sorts before the queued writer.
                let children = DistributedReadWriteLock.sorted(try await clients[0].getChildren(path))
                #expect(children.count == 2)
                #expect(read.path.string.hasSuffix(children[0]))
                #expect(read.isValid)
                readReleased.update { $0 = true }
                try await read.release()
                #expect(try await queuedWriter.get!.value, "the writer entered only after the read was released")
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("read and write locks are reentrant for the same owner")
    func reentrancy() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let path: ZNodePath = "/rw/reentrant"
                let lock = DistributedReadWriteLock(client: clients[0], path: path)
                try await lock.writeLock.withLock(timeout: .seconds(5)) { _ in
                    try await lock.writeLock.withLock(timeout: .seconds(1)) { _ in }
                    try await lock.readLock.withLock(timeout: .seconds(1)) { _ in
                        try await lock.readLock.withLock(timeout: .seconds(1)) { _ throws in
                            let count = try await clients[0].getChildren(path).count
                            #expect(count == 2)
                        }
                    }
                }
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("a cancelled reader and a timed-out writer leave no node")
    func cancellationAndTimeout() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let path: ZNodePath = "/rw/cancel"
                let holder = try await DistributedReadWriteLock(client: clients[0], path: path).writeLock.acquire()
                let other = DistributedReadWriteLock(client: clients[1], path: path)
                let reader = Task { try await other.readLock.acquire() }
                try await waitForChildren(clients[0], path, count: 2)
                reader.cancel()
                await #expect(throws: CancellationError.self) { try await reader.value }
                await #expect(throws: LockError.timedOut) { try await other.writeLock.acquire(timeout: .milliseconds(200)) }
                _ = try await clients[0].sync(path)  // maybe another member: read what clients[1] deleted
                #expect(try await clients[0].getChildren(path).count == 1)
                try await holder.release()
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("the writer's session expires: its lease is lost and the waiting readers get in")
    func writerSessionExpires() async throws {
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let path: ZNodePath = "/rw/expiry"
                let writer = try await DistributedReadWriteLock(client: clients[0], path: path).writeLock.acquire()
                let readers = (1...2).map { index in
                    Task { try await DistributedReadWriteLock(client: clients[index], path: path).readLock.acquire(timeout: .seconds(20)) }
                }
                try await waitForChildren(clients[1], path, count: 3)
                try await server.expireSession(clients[0].session)
                let leases = [try await readers[0].value, try await readers[1].value]
                #expect(leases.allSatisfy { $0.fencingToken > writer.fencingToken })
                await writer.waitForEnd()
                #expect(writer.status == .lost)
                for lease in leases { try await lease.release() }
                #expect(try await leftovers(clients[1], path).isEmpty)
            }
        }
    }
}
