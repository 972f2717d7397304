import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperHTTP
import ZooKeeperInspector
import ZooKeeperRecipes
import ZooKeeperTestSupport

/// The inspector against Apache ZooKeeper 3.8 (Debian's jars): the same client, so the same features —
/// the recursive watch (3.6+), recipes, the srvr/mntr panel.
@Suite(.timeLimit(.minutes(3))) struct InspectorApacheTests {
    @Test(.enabled(if: ApacheZooKeeper.isInstalled || HeadlessChromium.required, "Apache ZooKeeper 3.8 is not installed"))
    func followsApacheZooKeeper() async throws {
        let server = try ApacheZooKeeper()
        try await server.start()
        do {
            try await inspect(server)
        } catch {
            try? await server.stop()
            throw error
        }
        try await server.stop()
    }

    private func inspect(_ server: ApacheZooKeeper) async throws {
        let client = try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectionString: server.connectString))
        let waiterClient = try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectionString: server.connectString))
        let inspector = try await ZooKeeperInspector.start(client: client, configuration: InspectorConfiguration(
            port: 0, members: [ServerAddress(host: server.host, port: server.port)], ensembleInterval: .milliseconds(500)))
        let lease = try await DistributedMutex(client: client, path: "/locks/apache").acquire(timeout: .seconds(10))
        let waiting = Task {
            try await DistributedMutex(client: waiterClient, path: "/locks/apache").acquire(timeout: .seconds(60)).release()
        }
        do {
            let events = try EventStreamClient(port: inspector.port)
            defer { events.close() }
            let ensemble = try await events.next(named: "ensemble")
            #expect(ensemble["members"]?.elements.first?["mode"] == .string("standalone"), "\(ensemble.compact())")
            let lock = try await events.next(named: "recipes") { recipes in
                recipes["recipes"]?.elements.contains { $0["path"] == .string("/locks/apache") && $0["waiters"]?.elements.count == 1 } == true
            }
            let card = lock["recipes"]?.elements.first { $0["path"] == .string("/locks/apache") }
            #expect(card?["holders"]?.elements.first?["session"] == .string(client.session?.idHex ?? "?"))
            #expect(card?["waiters"]?.elements.first?["session"] == .string(waiterClient.session?.idHex ?? "?"))
            try await lease.release()
            _ = try await events.next(named: "change") { $0["type"]?.stringValue?.lowercased().contains("deleted") == true }
            try await waiting.value
        } catch {
            waiting.cancel()
            await inspector.stop()
            await waiterClient.close()
            await client.close()
            throw error
        }
        await inspector.stop()
        await waiterClient.close()
        await client.close()
    }
}
