import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperTestSupport

@Suite("Guarded writes (a multi that first checks the holder's node)", .timeLimit(.minutes(1)))
struct GuardedWriteTests {
    @Test("a holder's guarded write applies; once its lock node is gone the write is refused and the lease is lost")
    func mutexGuardedWrite() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let (holder, other) = (clients[0], clients[1])
                try await other.create("/orders", data: Array("0".utf8))
                let lease = try await DistributedMutex(client: holder, path: "/locks/guarded").acquire(timeout: .seconds(10))
                let stat = try await lease.guardedSetData("/orders", data: Array("1".utf8))
                #expect(stat.version == 1)

                // A failing write inside the guard: the error is the write's, results exclude the guard.
                do {
                    try await lease.guardedMulti([.setData("/orders", data: [], version: 0)])
                    Issue.record("a stale version must fail")
                } catch let error as ZooKeeperError {
                    #expect(error.code == .badVersion)
                    #expect(error.operationResults?.count == 1)
                }
                #expect(lease.status == .held)

                // The node goes (an operator, or the server expiring the session): nothing is written.
                try await other.delete(lease.path)
                await #expect(throws: LockError.leaseLost) {
                    try await lease.guardedSetData("/orders", data: Array("stale".utf8))
                }
                #expect(try await other.getData("/orders").data == Array("1".utf8))
                #expect(lease.status == .lost)
                try await lease.release()
            }
        }
    }

    @Test("a read/write lock's write lease guards writes the same way")
    func writeLockGuardedWrite() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                try await clients[0].create("/config", data: [])
                let lock = DistributedReadWriteLock(client: clients[0], path: "/locks/rw-guarded")
                let lease = try await lock.writeLock.acquire(timeout: .seconds(10))
                let results = try await lease.guardedMulti([
                    .setData("/config", data: Array("v2".utf8)),
                    .create("/config/history-", data: Array("v2".utf8), mode: .persistentSequential),
                ])
                #expect(results.count == 2)
                try await lease.release()
                await #expect(throws: LockError.leaseLost) {
                    try await lease.guardedSetData("/config", data: Array("after release".utf8))
                }
                #expect(try await clients[0].getData("/config").data == Array("v2".utf8))
            }
        }
    }

    @Test("LeaderLatch: only the leader's guarded writes apply; a deposed leader's are refused")
    func leaderGuardedWrite() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                try await clients[0].create("/state", data: [])
                let path: ZNodePath = "/election/guarded"
                let first = LeaderLatch(client: clients[0], path: path, id: "a")
                let second = LeaderLatch(client: clients[1], path: path, id: "b")
                try await first.start()
                try await first.waitForLeadership(timeout: .seconds(10))
                try await second.start()
                try await waitForChildren(clients[0], path, count: 2)

                try await first.guardedMulti([.setData("/state", data: Array("a".utf8))])
                await #expect(throws: LeaderLatchError.notLeader) {
                    try await second.guardedMulti([.setData("/state", data: Array("b".utf8))])
                }
                // Depose the leader behind its back: delete its node from the other session.
                let leaderNode = LockNames.sorted(try await clients[1].getChildren(path), lockName: LeaderLatch.latchName)[0]
                try await clients[1].delete(try path.appending(leaderNode))
                await #expect(throws: LeaderLatchError.notLeader) {
                    try await first.guardedMulti([.setData("/state", data: Array("stale".utf8))])
                }
                try await second.waitForLeadership(timeout: .seconds(10))
                try await second.guardedMulti([.setData("/state", data: Array("b".utf8))])
                _ = try await clients[0].sync("/state")  // maybe another member: read what the second leader wrote
                #expect(try await clients[0].getData("/state").data == Array("b".utf8))
                await first.close()
                await second.close()
            }
        }
    }
}
