import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperTestSupport

/// Defect: `take()` lost an item when an outage outlasted the retry policy but not the session — the
/// take's transaction had committed, its reply was lost, and the receipt check gave up.
@Suite("DistributedQueue: the take's receipt check outlasts its retry policy", .timeLimit(.minutes(1)))
struct QueueReceiptOutageTests {
    @Test("the take commits, its reply is lost, the connection stays down past the retry policy: the item is returned")
    func outageLongerThanRetryPolicy() async throws {
        try await scenario(expire: false)
    }

    @Test("... and if the session ends during that outage, the take says clearly that the item may be lost")
    func sessionEndsDuringOutage() async throws {
        try await scenario(expire: true)
    }

    private func scenario(expire: Bool) async throws {
        try await withRecipeServer { server in
            // The consumer talks through a proxy; an admin client talks to the server directly.
            let parts = server.connectString.split(separator: "/", maxSplits: 1)
            let upstream = String(parts[0].split(separator: ",")[0])
            let chroot = parts.count > 1 ? "/" + parts[1] : ""
            let proxy = try FaultProxy.start(upstream: upstream)
            defer { proxy.stop() }
            var configuration = try ZooKeeperConfiguration(connectionString: proxy.address + chroot)
            configuration.sessionTimeout = .seconds(10)
            configuration.connectTimeout = .milliseconds(300)
            let consumer = try await ZooKeeperClient.connect(configuration)
            do {
                try await run(consumer, proxy, server, expire: expire)
            } catch {
                await consumer.close()
                throw error
            }
            await consumer.close()
        }
    }

    private func run(_ consumer: ZooKeeperClient, _ proxy: FaultProxy, _ server: RecipeServer, expire: Bool) async throws {
        try await withClients(1, on: server) { clients in
            let path: ZNodePath = "/queues/outage"
            let admin = DistributedQueue<String>(client: clients[0], path: path)
            let node = try await admin.put("job")
            let deleted = try await clients[0].existsWatching(ZNodePath(node)).watch

            // Every byte through the proxy now takes 500 ms: time to cut the connection after the
            // server applied the take's transaction and before its reply reaches the consumer.
            proxy.setDelay(.milliseconds(500))
            let queue = DistributedQueue<String>(client: consumer, path: path, retryPolicy: .boundedTimes(1, delay: .milliseconds(50)))
            let taking = Task { try await queue.take(timeout: .seconds(30)) }
            defer { taking.cancel() }
            _ = try await withTimeout(.seconds(10)) { try await deleted.event() }
            proxy.stall(.both)  // reconnects are held: an outage, not a refusal
            proxy.resetAll()    // the reply in the proxy is gone: the consumer sees connection loss
            proxy.setDelay(.zero)
            // Let the outage outlast the policy (2 attempts) several times over: 4 more held reconnects.
            let accepted = proxy.acceptedConnections
            try await proxy.waitForConnections(atLeast: accepted + 4, timeout: .seconds(6))
            if expire {
                try await server.expireSession(consumer.session)
                proxy.heal()
                do {
                    let taken = try await withTimeout(.seconds(20)) { try await taking.value }
                    Issue.record("the take returned \(String(describing: taken)) from an expired session")
                } catch let error as ZooKeeperError {
                    #expect(error.code == .sessionExpired)
                    #expect(error.message?.contains("may be lost") == true, "\(error)")
                }
                return
            }
            proxy.heal()
            let taken: String?
            do {
                taken = try await withTimeout(.seconds(20)) { try await taking.value }
            } catch {
                Issue.record("the take threw \(error) while its session lived")
                taken = nil
            }
            #expect(taken == "job", "the item was deleted by the take but not returned")
            #expect(try await admin.count() == 0, "the take's transaction had committed")
            #expect(consumer.session != nil)
        }
    }
}
