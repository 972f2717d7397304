import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperProtocol
import ZooKeeperTestSupport

@Suite("Apache 3-node ensemble fixture",
       .enabled(if: ApacheEnsemble.isInstalled, Comment(rawValue: ApacheEnsemble.notInstalledMessage)),
       .timeLimit(.minutes(3)))
struct ApacheEnsembleTests {
    @Test("starts with a short tick, serves a client with a short session, stops and cleans up")
    func startConnectStop() async throws {
        let ensemble = try await ApacheEnsemble.start(tickTime: 200)
        do {
            #expect(ensemble.servers.count == 3)
            #expect((1...3).contains(try await ensemble.leader()))
            var configuration = try ZooKeeperConfiguration(connectionString: ensemble.connectString)
            configuration.sessionTimeout = .milliseconds(1500)  // allowed: 2..20 ticks of 200 ms
            configuration.initialConnectionTimeout = .seconds(20)
            let client = try await ZooKeeperClient.connect(configuration)
            do {
                try await client.create("/ensemble-fixture", data: [7])
                #expect(try await client.getData("/ensemble-fixture").data == [7])
                #expect(client.session?.timeoutMilliseconds == 1500)
            } catch {
                await client.close()
                throw error
            }
            await client.close()
        } catch {
            await ensemble.stop()
            throw error
        }
        await ensemble.stop()
        #expect(!FileManager.default.fileExists(atPath: ensemble.directory), "stop removes the state directory")
    }
}
