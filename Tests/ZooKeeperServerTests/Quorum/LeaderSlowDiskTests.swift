import Foundation
import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// The leader's group commit does not hold up its clients: while its disk takes seconds to sync a proposal,
/// the leader's client side still answers `srvr`, reads, and takes further writes (they wait for the quorum,
/// not for a lock the log holds). Before, the leader synced its log under the lock its client side takes to
/// submit a write or read the role's status, so the whole client side stalled behind each fsync.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct LeaderSlowDiskTests {
    @Test func aSlowLeaderDiskDoesNotStallItsClients() async throws {
        var configuration = EmbeddedEnsemble.defaultConfiguration
        configuration.tickTime = 100
        configuration.initLimit = 20
        configuration.syncLimit = 50  // 5 s: the stall below must not depose the leader
        configuration.fourLetterWordWhitelist = ["*"]
        try await withEmbeddedEnsemble(configuration: configuration) { ensemble in
            let leader = try await ensemble.waitForLeader()
            let storage = try #require(ensemble.member(leader)?.server.peer?.storage)
            let port = ensemble.configurations[leader]!.clientPort
            var clientConfiguration = try ZooKeeperConfiguration(connectionString: ensemble.connectString(members: [leader]))
            clientConfiguration.sessionTimeout = .seconds(10)
            let writer = try await ZooKeeperClient.connect(clientConfiguration)
            let reader = try await ZooKeeperClient.connect(clientConfiguration)
            try await writer.create("/before", data: [1])

            let stall = 3_000
            storage.syncStall.store(stall, ordering: .relaxed)
            let slowWrite = Task { try await writer.create("/during", data: [2]) }
            try await eventually(within: .seconds(5)) { storage.stalledSyncs.load(ordering: .relaxed) > 0 }

            // The leader is inside its 3 s sync now. Its client side answers at once.
            let started = ContinuousClock.now
            let srvr = try sendFourLetterWord("srvr", host: "127.0.0.1", port: port, timeout: .seconds(5))
            #expect(srvr.contains("Mode: leader"))
            #expect(try await reader.getData("/before").data == [1])
            let secondWrite = Task { try await reader.setData("/before", data: [3]) }  // queued behind the stalled sync
            let answeredIn = started.duration(to: .now)
            #expect(answeredIn < .milliseconds(1_500), "srvr and a read on the leader took \(answeredIn) while its disk synced")

            storage.syncStall.store(0, ordering: .relaxed)
            _ = try await slowWrite.value
            _ = try await secondWrite.value
            #expect(try await reader.getData("/during").data == [2])
            #expect(try await reader.getData("/before").data == [3])
            await writer.close()
            await reader.close()
        }
    }
}
