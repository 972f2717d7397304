import Testing
import ZooKeeperClient
import ZooKeeperServer
import ZooKeeperTestSupport

/// The public embedded ensemble, used as a user's test would: no `@testable`.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct EmbeddedEnsembleTests {
    static func client(_ connectString: String) async throws -> ZooKeeperClient {
        var configuration = try ZooKeeperConfiguration(connectionString: connectString)
        configuration.sessionTimeout = .seconds(10)
        return try await ZooKeeperClient.connect(configuration)
    }

    @Test func survivesItsLeaderAndCatchesItUpWhenItReturns() async throws {
        try await withEmbeddedEnsemble { ensemble in
            #expect(ensemble.ids == [1, 2, 3])
            let first = try await ensemble.waitForLeader()
            let client = try await Self.client(ensemble.connectString)
            try await client.create("/job", data: [0])

            await ensemble.stop(member: first)
            #expect(await ensemble.role(of: first) == nil)
            let second = try await ensemble.waitForLeader()
            #expect(second != first)
            // The client moves on to a serving member; its session is the ensemble's, not the member's. (A
            // request caught on the way — on the stopped member's connection — fails with connection loss.)
            try await eventually(within: .seconds(10)) {
                do {
                    _ = try await client.setData("/job", data: [1])
                    return true
                } catch let error as ZooKeeperError where error.isRetryable {
                    return false
                }
            }

            try await ensemble.start(member: first)
            #expect(try await ensemble.waitForLeader() == second, "a member that returns follows the leader it finds")
            for id in ensemble.ids {
                let reader = try await Self.client(ensemble.connectString(members: [id]))
                _ = try await reader.sync("/job")
                #expect(try await reader.getData("/job").data == [1], "member \(id)")
                await reader.close()
            }
            await client.close()
        }
    }

    @Test func inMemoryWithAnObserver() async throws {
        try await withEmbeddedEnsemble(observers: 1, inMemory: true) { ensemble in
            #expect(ensemble.directory == nil)
            let leader = try await ensemble.waitForLeader()
            #expect(await ensemble.role(of: 4) == .observer)
            #expect(await ensemble.role(of: leader) == .leader)
            // A write through the observer is forwarded and visible there.
            let viaObserver = try await Self.client(ensemble.connectString(members: [4]))
            try await viaObserver.create("/seen", data: [7])
            #expect(try await viaObserver.getData("/seen").data == [7])
            await viaObserver.close()
        }
    }

    @Test func withoutAQuorumNobodyLeads() async throws {
        let ensemble = try await EmbeddedEnsemble.start(inMemory: true)
        do {
            _ = try await ensemble.waitForLeader()
            await ensemble.stop(member: 1)
            await ensemble.stop(member: 2)
            // One of three alone: within syncLimit it stops serving (looking), and stays so.
            try await eventually(within: .seconds(10)) { await ensemble.role(of: 3) == .looking }
            await #expect(throws: (any Error).self) { _ = try await ensemble.waitForLeader(within: .seconds(2)) }
            #expect(await ensemble.role(of: 3) == .looking)
        } catch {
            await ensemble.stop()
            throw error
        }
        await ensemble.stop()
    }
}
