import Testing
import ZooKeeperClient
@testable import ZooKeeperRecipes
@testable import ZooKeeperServer
import ZooKeeperTestSupport

/// ZooKeeper's sequence suffix is `%010d` of the parent's signed 32-bit cversion. Apache 3.8 never
/// stores a wrapped cversion, so after 2^31 - 1 creates it hands out `2147483647` again (and
/// `-2147483648` while creates are in flight together): suffixes stop ordering creations.
@Suite("Sequence wrap", .timeLimit(.minutes(1)))
struct SequenceWrapTests {
    @Test("exhausted sequences (2147483647, negative) never sort before a valid one; valid ones sort by number")
    func orderingAtTheEnd() {
        let valid = ["_c_a-lock-0000000005", "_c_b-lock-2147483645", "_c_c-lock-2147483646"]
        let exhausted = ["_c_d-lock--2147483648", "_c_e-lock--000000001", "_c_f-lock-2147483647"]
        #expect(Array(LockNames.sorted(exhausted + valid.reversed()).prefix(3)) == valid)
        #expect(Set(LockNames.sorted(exhausted + valid).suffix(3)) == Set(exhausted))
        // Without an exhausted sequence: Curator's order (text and number agree), non-sequences last.
        let plain = ["_c_a-lock-0000000001", "_c_c-lock-0000000002", "_c_b-lock-0000000010", "x"]
        #expect(LockNames.sorted(plain.reversed()) == plain)
        let readWrite = ["_c_a-__WRIT__2147483646", "_c_b-__READ__-2147483648", "_c_c-__WRIT__2147483647"]
        #expect(DistributedReadWriteLock.sorted(readWrite.reversed()).first == readWrite[0])
    }

    @Test("a lock directory at the end of the sequence: later contenders refuse (no node left); the holder keeps it",
          .enabled(if: RecipeServer.targetIsEmbedded, "sets a parent's cversion in the embedded server's data tree"))
    func lockAtTheEndOfTheSequence() async throws {
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let path: ZNodePath = "/locks/wrap"
                try await clients[0].create("/locks")
                try await clients[0].create(path)
                try await setChildCreations(of: path, to: Int32.max - 1, on: try server.faults)
                let first = try await DistributedMutex(client: clients[0], path: path).acquire(timeout: .seconds(5))
                #expect(first.path.string.hasSuffix("-lock-2147483646"))
                // The next nodes are `…-lock-2147483647` (then the same again, or `-2147483648`): as text
                // `-2147483648` sorts first, and equal suffixes tie by name — a second holder either way.
                for client in clients.dropFirst() {
                    await #expect(throws: LockError.sequenceExhausted(directory: path.string)) {
                        _ = try await DistributedMutex(client: client, path: path).acquire(timeout: .seconds(2))
                    }
                }
                #expect(try await leftovers(clients[0], path).count == 1, "the refused contenders left no node")
                #expect(first.status == .held)
                try await first.release()
            }
        }
    }

    @Test("a latch whose node is past the sequence range never leads on it, says so, and leaves no node",
          .enabled(if: RecipeServer.targetIsEmbedded, "sets a parent's cversion in the embedded server's data tree"))
    func latchAtTheEndOfTheSequence() async throws {
        try await withRecipeServer { server in
            let errors = Box<[String]>([])
            var configuration = try ZooKeeperConfiguration(connectionString: server.connectString)
            configuration.logHandler = ZooKeeperLogHandler { level, message in
                if level == .error { errors.update { $0.append(message) } }
            }
            try await withZooKeeperClient(configuration) { late in
                try await withClients(1, on: server) { clients in
                    let path: ZNodePath = "/election/wrap"
                    try await clients[0].create("/election")
                    try await clients[0].create(path)
                    try await setChildCreations(of: path, to: Int32.max - 1, on: try server.faults)
                    let leader = LeaderLatch(client: clients[0], path: path, id: "a")
                    try await leader.start()
                    try await leader.waitForLeadership(timeout: .seconds(5))
                    await leader.close()  // the next node would be first, but its suffix orders nothing
                    let refused = LeaderLatch(client: late, path: path, id: "b")
                    try await refused.start()
                    try await eventually(within: .seconds(10)) { errors.get.contains { $0.contains("sequence") } }
                    #expect(!refused.hasLeadership)
                    await refused.close()
                    #expect(try await leftovers(clients[0], path).isEmpty)
                }
            }
        }
    }

    @Test("UniqueIDGenerator refuses loudly once the sequence wraps instead of repeating an id",
          .enabled(if: RecipeServer.targetIsEmbedded, "sets a parent's cversion in the embedded server's data tree"))
    func uniqueIDsAtTheWrap() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let path: ZNodePath = "/ids/wrap"
                try await clients[0].create("/ids")
                try await clients[0].create(path)
                try await setChildCreations(of: path, to: Int32.max - 2, on: try server.faults)
                let generator = UniqueIDGenerator(client: clients[0], path: path)
                #expect(try await generator.next() == 2_147_483_645)
                #expect(try await generator.next() == 2_147_483_646)
                var handedOut: [Int64] = [2_147_483_645, 2_147_483_646]
                for _ in 0..<3 {
                    do {
                        handedOut.append(try await generator.next())
                    } catch let error as UniqueIDError {
                        #expect(error == .sequenceExhausted(path: path.string))
                    }
                }
                #expect(handedOut.count == 2, "no id at or after the end of the sequence (it would repeat): \(handedOut)")
                #expect(try await leftovers(clients[0], path).isEmpty)
            }
        }
    }

    @Test("sequence suffixes parse as signed 32-bit numbers")
    func parsing() {
        #expect(SequenceNumbers.parse("0000000042") == 42)
        #expect(SequenceNumbers.parse("-2147483648") == Int32.min)
        #expect(SequenceNumbers.parse("-000000005") == -5)
        #expect(SequenceNumbers.parse("+000000005") == nil)
        #expect(SequenceNumbers.parse("x") == nil)
        #expect(SequenceNumbers.parse("") == nil)
    }
}

/// Sets how many children `path` has had created (its persisted cversion: the next sequence number).
private func setChildCreations(of path: ZNodePath, to count: Int32, on server: EmbeddedServer) async throws {
    let done = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
        let submitted = server.server.onPipeline { state in
            let zxid = state.database.lastProcessedZxid
            continuation.resume(returning: (try? state.database.tree.setCversionPzxid(path: path.string, cversion: count, zxid: zxid)) != nil)
        }
        if !submitted { continuation.resume(returning: false) }
    }
    try #require(done, "could not set the cversion of \(path)")
}
