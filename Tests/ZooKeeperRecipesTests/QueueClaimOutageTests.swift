import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperTestSupport

/// Defect: `process()`'s claim checks gave up with the retry policy. When an outage outlasted the policy
/// right after the claim's create had committed (its reply lost), the cleanup's ownership check gave up
/// too and left the claim in place: the item stayed held by a live session until that session ended.
@Suite("DistributedQueue: process()'s claim check outlasts its retry policy", .timeLimit(.minutes(1)))
struct QueueClaimOutageTests {
    @Test("the claim commits, its reply is lost, the outage outlasts the policy: the claim is removed, the item stays")
    func claimNotLeftBehind() async throws {
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
                try await run(consumer, proxy, server)
            } catch {
                await consumer.close()
                throw error
            }
            await consumer.close()
        }
    }

    private func run(_ consumer: ZooKeeperClient, _ proxy: FaultProxy, _ server: RecipeServer) async throws {
        try await withClients(1, on: server) { clients in
            let path: ZNodePath = "/queues/claim-outage"
            let admin = DistributedQueue<String>(client: clients[0], path: path)
            let node = try ZNodePath(try await admin.put("job"))
            let claim = try path.appending("receipts").appending(node.name)
            let claimed = try await clients[0].existsWatching(claim).watch

            // Every byte through the proxy now takes 500 ms: time to cut the connection after the server
            // created the claim and before the reply reaches the consumer.
            proxy.setDelay(.milliseconds(500))
            let queue = DistributedQueue<String>(client: consumer, path: path, retryPolicy: .boundedTimes(1, delay: .milliseconds(50)))
            let processing = Task { try await queue.process(timeout: .seconds(30)) { item in item } }
            defer { processing.cancel() }
            _ = try await withTimeout(.seconds(10)) { try await claimed.event() }
            proxy.stall(.both)  // reconnects are held: an outage, not a refusal
            proxy.resetAll()    // the create's reply is gone: the consumer sees connection loss
            proxy.setDelay(.zero)
            // Let the outage outlast the policy (2 attempts) several times over: 4 more held reconnects.
            let accepted = proxy.acceptedConnections
            try await proxy.waitForConnections(atLeast: accepted + 4, timeout: .seconds(6))
            proxy.heal()
            let outcome: Result<String, any Error>
            do {
                outcome = .success(try await withTimeout(.seconds(20)) { try await processing.value })
            } catch {
                outcome = .failure(error)
            }
            _ = try await clients[0].sync(path)  // maybe another member: read what the consumer did
            if case .success(let item) = outcome {
                #expect(item == "job")  // processed after all: then it is gone with its claim
                #expect(try await admin.count() == 0)
            } else {
                #expect(try await admin.count() == 1, "the item stays for the next consumer")
            }
            #expect(consumer.session != nil, "the session lived through the outage")
            #expect(try await clients[0].exists(claim) == nil, "a claim was left behind by a live session")
        }
    }
}
