import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

/// A waiting consumer skips a claimed item; the claim then goes (its processor threw, or died) on a
/// quiet queue — no put, so the queue's children never change. The waiter must still get the item.
@Suite("DistributedQueue: waiters wake when a claim goes", .timeLimit(.minutes(1)))
struct QueueClaimWakeTests {
    enum ClaimEnd: CaseIterable, Sendable { case bodyThrew, processorSessionExpired }

    @Test("a waiter that skipped a claimed item takes it once the claim is removed", arguments: ClaimEnd.allCases)
    func waiterWakesWhenClaimGoes(_ end: ClaimEnd) async throws {
        try await withRecipeServer { server in
            try await withClients(3, on: server) { clients in
                let path: ZNodePath = "/queues/claim-wake"
                let (processor, waiter, admin) = (clients[0], clients[1], clients[2])
                try await DistributedQueue<String>(client: admin, path: path).put("job")
                let claimed = Box(false)
                let processing = Task {
                    try await DistributedQueue<String>(client: processor, path: path).process(timeout: .seconds(5)) { _ in
                        claimed.update { $0 = true }
                        try await suspendUntilCancelled()  // "works" until it fails
                    }
                }
                defer { processing.cancel() }
                try await eventually(within: .seconds(10)) { claimed.get }

                // The waiter's take skips the claimed item and starts waiting: its session has sent the
                // take's getChildren, getData and multi (the server's `cons` shows its last xid).
                _ = try await waiter.exists("/")
                let session = try #require(waiter.session)
                let before = try lastXid(of: session, on: server, via: waiter)
                let taking = Task { try await DistributedQueue<String>(client: waiter, path: path).take(timeout: .seconds(15)) }
                defer { taking.cancel() }
                try await eventually(within: .seconds(10)) {
                    let xid = try lastXid(of: session, on: server, via: waiter)
                    return xid >= before + 3 && xid < Int64(Int32.max)  // not a ping's -2
                }

                switch end {
                case .bodyThrew: processing.cancel()  // the body throws: the claim is dropped, the item stays
                case .processorSessionExpired: try await server.expireSession(processor.session)
                }
                let taken = try await taking.value
                #expect(taken == "job", "the waiter was not woken when the claim went")
            }
        }
    }
}

/// The last request xid the server saw from `session` (four-letter word `cons`), asked of the server `client`
/// uses (an ensemble's other members do not know its connection).
private func lastXid(of session: SessionInfo, on server: RecipeServer, via client: ZooKeeperClient) throws -> Int64 {
    let hostPort = server.connectString.split(separator: "/").first.map(String.init) ?? server.connectString
    let first = hostPort.split(separator: ",").first.map(String.init) ?? hostPort
    let current = client.currentServer
    let host = current?.host ?? String(first.split(separator: ":").dropLast().joined(separator: ":"))
    let port = try #require(current?.port ?? first.split(separator: ":").last.flatMap { Int($0) })
    let reply = try sendFourLetterWord("cons", host: host, port: port, timeout: .seconds(5))
    let sid = "sid=0x" + String(UInt64(bitPattern: session.id), radix: 16)
    let line = try #require(reply.split(separator: "\n").first { $0.contains(sid + ",") || $0.contains(sid + ")") }, "no connection of \(sid) in \(reply)")
    let field = try #require(line.split(separator: ",").first { $0.hasPrefix("lcxid=0x") })
    let value = try #require(UInt32(field.dropFirst("lcxid=0x".count), radix: 16))
    return Int64(Int32(bitPattern: value))
}
