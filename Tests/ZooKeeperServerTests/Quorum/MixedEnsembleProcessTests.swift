import Foundation
import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// A mixed ensemble as processes — nodes 1 and 2 `zk-server`, node 3 Apache ZooKeeper 3.8 — whose leader is
/// SIGKILLed round after round under our client's write load. With equal histories the highest live sid
/// leads, so the leader alternates between Apache's node 3 and our node 2. Afterwards Apache's own clients
/// (zkCli, i.e. the Java client, and kazoo) write through every member, and every member, read alone, holds
/// the same tree with every acknowledged write.
@Suite(.serialized, .timeLimit(.minutes(6)),
       .enabled(if: ShepherdServerProcess.binaryPath != nil, Comment(rawValue: ShepherdServerProcess.notBuiltMessage)),
       .enabled(if: ApacheZooKeeper.isInstalled, Comment(rawValue: ApacheZooKeeper.notInstalledMessage)))
struct MixedEnsembleProcessTests {
    static let rounds = 6
    static let ours: Set<Int> = [1, 2]

    typealias Load = ShepherdEnsembleProcessTests.Load

    /// One kazoo create through one member.
    static let kazooScript = #"""
        import sys
        from kazoo.client import KazooClient
        zk = KazooClient(hosts=sys.argv[1], timeout=10)
        zk.start(timeout=20)
        zk.create(sys.argv[2], b"kazoo")
        zk.stop()
        print("created")
        """#

    @Test func aLeaderOfEitherKindKilledUnderLoadLosesNoAcknowledgedWrite() async throws {
        try await withApacheEnsemble(tickTime: 200, shepherdNodes: Array(Self.ours)) { ensemble in
            var configuration = try ZooKeeperConfiguration(connectionString: ensemble.connectString)
            configuration.sessionTimeout = .seconds(4)
            let client = try await ZooKeeperClient.connect(configuration)
            try await client.create("/load")
            try await client.create("/clients")
            let load = Load()
            let writer = Task { await ShepherdEnsembleProcessTests.write(client, load) }
            var leaders: [Int] = []
            for round in 1...Self.rounds {
                let before = load.count
                let leader = try await ensemble.leader()
                leaders.append(leader)
                try await ensemble.kill(node: leader)
                let next = try await ShepherdEnsembleProcessTests.newLeader(ensemble, not: leader)
                try await ensemble.startNode(leader)
                try await ensemble.waitHealthy()
                try await eventually(within: .seconds(15)) { load.count > before }
                print("mixed round \(round): \(Self.kind(leader)) leader \(leader) killed -> \(Self.kind(next)) leader \(next), \(load.count) acked")
            }
            load.running.store(false, ordering: .releasing)
            await writer.value
            await client.close()
            #expect(leaders.contains { Self.ours.contains($0) } && leaders.contains { !Self.ours.contains($0) },
                    "the leader should have been of both kinds: \(leaders)")

            // Apache's clients write through every member.
            let script = NSTemporaryDirectory() + "shepherd-kazoo-mixed-\(UUID().uuidString).py"
            try Self.kazooScript.write(toFile: script, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: script) }
            for (index, server) in ensemble.servers.enumerated() {
                let port = Int(server.split(separator: ":").last!)!
                let cli = try await ReadOnlyInteropTests.zkCli(port: port, ["create", "/clients/zkcli-\(index + 1)", "java"])
                #expect(cli.contains("Created /clients/zkcli-\(index + 1)"), "zkCli through member \(index + 1): \(cli)")
                if ReadOnlyInteropTests.kazooInstalled {
                    let run = try await runTool(ReadOnlyInteropTests.python, [script, server, "/clients/kazoo-\(index + 1)"], timeout: .seconds(60))
                    #expect(run.exitCode == 0 && run.output.contains("created"), "kazoo through member \(index + 1): \(run)")
                }
            }

            // Each member alone, after a sync: the same children everywhere, every acknowledged write among them.
            let acknowledged = Set(load.acknowledged.withLock { $0 }.map { String($0.dropFirst("/load/".count)) })
            var trees: [[String]] = []
            for server in ensemble.servers {
                let alone = try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectionString: server))
                _ = try await alone.sync("/load")
                let load = try await alone.getChildren("/load").sorted()
                let clients = try await alone.getChildren("/clients").sorted()
                await alone.close()
                let lost = acknowledged.subtracting(load)
                #expect(lost.isEmpty, "member \(server) lacks acknowledged writes: \(lost.sorted().prefix(10))")
                trees.append(load + ["|"] + clients)
            }
            #expect(Set(trees).count == 1, "the members' trees differ")
            #expect(trees.first?.contains("zkcli-3") == true)
            print("MixedEnsembleProcessTests: leaders killed \(leaders.map { "\($0) (\(Self.kind($0)))" }), \(acknowledged.count) writes acknowledged, 0 lost; the 3 members agree")
        }
    }

    static func kind(_ node: Int) -> String { ours.contains(node) ? "Shepherd" : "Apache" }
}
