import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// `readonlymode.enabled=true` in the `zoo.cfg` of three `zk-server` processes: a member whose peers are
/// SIGKILLed serves read-only clients, and serves reads and writes again when they are back.
@Suite(.serialized, .timeLimit(.minutes(3)),
       .enabled(if: ShepherdServerProcess.binaryPath != nil, Comment(rawValue: ShepherdServerProcess.notBuiltMessage)))
struct ReadOnlyProcessTests {
    @Test func zooCfgTurnsItOnInTheExecutable() async throws {
        let ensemble = try await ApacheEnsemble.start(tickTime: 200, shepherdNodes: [1, 2, 3], extraConfig: ["readonlymode.enabled=true", "localSessionsEnabled=true"])
        try await withCleanup({ await ensemble.stop() }) {
            let survivor = try await ensemble.follower()
            let port = Int(ensemble.servers[survivor - 1].split(separator: ":").last!)!
            let isro = { () -> String? in try? sendFourLetterWord("isro", host: "127.0.0.1", port: port, timeout: .seconds(2)) }
            let writer = try await ZooKeeperClient.connect(.init(connectionString: ensemble.connectString))
            try await writer.create("/ro", data: Array("before".utf8))
            await writer.close()

            let others = [1, 2, 3].filter { $0 != survivor }
            for node in others { try await ensemble.kill(node: node) }
            try await eventually(within: .seconds(20)) { isro() == "ro" }

            var configuration = ZooKeeperConfiguration(servers: [ServerAddress(host: "127.0.0.1", port: port)])
            configuration.allowReadOnly = true
            configuration.sessionTimeout = .seconds(4)
            let reader = try await ZooKeeperClient.connect(configuration)
            #expect(reader.connectionState == .readOnly)
            #expect(try await reader.getData("/ro").data == Array("before".utf8))
            await reader.close()

            for node in others { try await ensemble.startNode(node) }
            try await ensemble.waitHealthy()
            #expect(isro() == "rw")
        }
    }
}
