import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperProtocol
import ZooKeeperTestSupport

/// Runs `body` with a fresh ensemble (tick 200 ms: sessions of 0.4–4 s), stopped however `body` ends.
private func withEnsemble(_ body: (ApacheEnsemble) async throws -> Void) async throws {
    try await withApacheEnsemble(tickTime: 200, body)
}

/// Runs `body` with a client of `connectString`, closed however `body` ends.
private func withClient(
    _ connectString: String, session: Duration, _ body: (ZooKeeperClient) async throws -> Void
) async throws {
    var configuration = try ZooKeeperConfiguration(connectionString: connectString)
    configuration.sessionTimeout = session
    configuration.initialConnectionTimeout = .seconds(20)
    try await withZooKeeperClient(configuration, body)
}

@Suite("Apache 3-node ensemble fixture",
       .enabled(if: ApacheEnsemble.isInstalled, Comment(rawValue: ApacheEnsemble.notInstalledMessage)),
       .serialized, .timeLimit(.minutes(3)))
struct ApacheEnsembleTests {
    @Test("starts with a short tick, serves a client with a short session, stops and cleans up")
    func startConnectStop() async throws {
        var directory = ""
        try await withEnsemble { ensemble in
            directory = ensemble.directory
            #expect(ensemble.servers.count == 3)
            #expect((1...3).contains(try await ensemble.leader()))
            // 1.5 s is allowed only because the tick is short (2..20 ticks of 200 ms).
            try await withClient(ensemble.connectString, session: .milliseconds(1500)) { client in
                try await client.create("/ensemble-fixture", data: [7])
                #expect(try await client.getData("/ensemble-fixture").data == [7])
                #expect(client.session?.timeoutMilliseconds == 1500)
            }
        }
        #expect(!FileManager.default.fileExists(atPath: directory), "stop removes the state directory")
    }

    @Test("kill(node:) the leader: the others elect a new one; startNode brings it back; waitHealthy waits for all three")
    func killAndRestartLeader() async throws {
        try await withEnsemble { ensemble in
            try await withClient(ensemble.connectString, session: .seconds(4)) { client in
                try await client.create("/before-kill")
                let leader = try await ensemble.leader()
                try await ensemble.kill(node: leader)
                // The client moves on (same session) once the other two have elected a leader: a write
                // (idempotent, so a retry after a lost reply is harmless) needs that quorum.
                try await eventually(within: .seconds(30), pollEvery: .milliseconds(100)) {
                    (try? await client.setData("/before-kill", data: [1])) != nil
                }
                #expect(try await ensemble.leader() != leader)
                try await ensemble.startNode(leader)
                try await ensemble.waitHealthy()
                #expect(try await client.getData("/before-kill").data == [1])
            }
        }
    }

    @Test("a client partitioned from the whole ensemble for longer than its session learns on heal that it expired")
    func partitionedClientExpires() async throws {
        try await withEnsemble { ensemble in
            let proxies = try FaultProxies(connectString: ensemble.connectString)
            defer { proxies.stop() }
            try await withClient(ensemble.connectString, session: .seconds(4)) { observer in  // not proxied
                try await withClient(proxies.connectString, session: .milliseconds(1500)) { victim in
                    try await victim.create("/partitioned", mode: .ephemeral)
                    _ = try await observer.sync("/partitioned")  // maybe another member: see the node before waiting for it to go
                    let states = victim.connectionStates()
                    proxies.stall()
                    // The ensemble expires the session (its ephemeral node goes) while the victim hears nothing.
                    try await eventually(within: .seconds(20)) { try await observer.exists("/partitioned") == nil }
                    proxies.heal()
                    do {
                        try await withTimeout(.seconds(30)) {
                            for await state in states where state == .lost(.sessionExpired) { return }
                            throw TestSupportError("the victim's state stream ended without .lost(.sessionExpired)")
                        }
                    } catch {
                        // What the proxies and the client saw, for a post-mortem.
                        throw TestSupportError("""
                            \(error); victim state \(victim.connectionState); proxies accepted \
                            \(proxies.proxies.map(\.acceptedConnections)), open \(proxies.proxies.map(\.activeConnections))
                            """)
                    }
                }
            }
        }
    }
}
