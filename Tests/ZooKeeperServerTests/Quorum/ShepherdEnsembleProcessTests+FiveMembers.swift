import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

extension ShepherdEnsembleProcessTests {
    /// `docker/local-ensemble.sh` with `ZK_NODES=5`: five `zk-server` processes form one ensemble. With its leader
    /// and a follower SIGKILLed (two of five), the other three elect a leader and commit writes; the two come back,
    /// catch up, and each member, read alone, holds every write.
    @Test func aFiveMemberEnsembleLosesTwoMembersAndKeepsCommitting() async throws {
        try await withApacheEnsemble(nodes: 5, tickTime: 200, shepherdNodes: [1, 2, 3, 4, 5]) { ensemble in
            #expect(ensemble.servers.count == 5)
            var configuration = try ZooKeeperConfiguration(connectionString: ensemble.connectString)
            configuration.sessionTimeout = .seconds(4)
            let client = try await ZooKeeperClient.connect(configuration)
            try await client.create("/five")
            for index in 1...10 { try await client.create(try ZNodePath("/five/before-\(index)")) }

            let leader = try await ensemble.leader()
            let follower = try await ensemble.follower()
            try await ensemble.kill(node: leader)
            try await ensemble.kill(node: follower)
            let next = try await Self.newLeader(ensemble, not: leader)
            #expect(next != follower, "a killed member cannot lead")
            for index in 1...10 { try await Self.createSurely(client, "/five/after-\(index)") }

            try await ensemble.startNode(leader)
            try await ensemble.startNode(follower)
            try await ensemble.waitHealthy()  // one leader, four followers
            await client.close()
            let expected = Set((1...10).flatMap { ["before-\($0)", "after-\($0)"] })
            for (index, server) in ensemble.servers.enumerated() {
                var alone = try ZooKeeperConfiguration(connectionString: server)
                alone.sessionTimeout = .seconds(4)
                let reader = try await ZooKeeperClient.connect(alone)
                _ = try await reader.sync("/five")
                let present = Set(try await reader.getChildren("/five"))
                #expect(present == expected, "member \(index + 1): missing \(expected.subtracting(present).sorted())")
                await reader.close()
            }
        }
    }

    /// Creates `path`; when the connection is lost (its member left the quorum), waits for the client to be
    /// connected again and retries, within 20 s in all. A create whose reply was lost and that is found
    /// existing on the retry counts as done.
    static func createSurely(_ client: ZooKeeperClient, _ path: String) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            do {
                try await client.create(try ZNodePath(path))
                return
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                return
            } catch let error as ZooKeeperError where error.code == .connectionLoss {
                let left = ContinuousClock.now.duration(to: deadline)
                guard left > .zero else { throw error }
                try await client.waitUntilConnected(timeout: left)
            }
        }
    }
}
