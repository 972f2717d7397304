import Foundation
import Testing
import ZooKeeperTestSupport

/// The request-path fuzzer against a follower of a 3-member zk-server ensemble: its malformed, hostile and
/// odd requests are answered by the follower or forwarded to the leader, so both paths — and the leader's
/// preparation of writes that arrive from a learner — meet them. Every member must answer each case as the
/// fuzzer expects, stay up, and end with the same tree.
@Suite(.serialized, .timeLimit(.minutes(6)),
       .enabled(if: ShepherdServerProcess.binaryPath != nil, Comment(rawValue: ShepherdServerProcess.notBuiltMessage)))
struct MemberRequestFuzzTests {
    @Test func casesThroughAFollowerLeaveEveryMemberServingOneTree() async throws {
        // syncLimit 4 s (20 ticks): 16 fuzz connections on a loaded 2-core machine once stalled a member past
        // Apache's 1 s default here, and an election in the middle is another test (EnsembleClientTests).
        let config = FuzzRun.serverConfig + ["syncLimit=20", "initLimit=20"]
        try await withApacheEnsemble(tickTime: FuzzRun.serverTickTime, shepherdNodes: [1, 2, 3], extraConfig: config) { ensemble in
            let follower = try await ensemble.follower()
            let port = try #require(Int(ensemble.servers[follower - 1].split(separator: ":").last ?? ""))
            var options = FuzzRun.Options(seed: RequestFuzzTests.seed, cases: 3_000)
            options.connections = 16
            options.batchSize = 1_000
            options.anyReplyOrder = true
            let report = try await FuzzRun(options: options).run(port: port)
            print("[member fuzz] \(report)")
            for failure in report.failures { print("[member fuzz] \(failure)") }
            #expect(report.cases == 3_000)
            #expect(report.passed, "\(report)")

            // Every member up, in its role; once the cases' sessions have expired, one tree everywhere.
            try await ensemble.waitHealthy()
            let members = ensemble.servers.map { server in
                FuzzServerChecks(port: Int(server.split(separator: ":").last!)!, superPassword: FuzzRun.superPassword)
            }
            // The cases' sessions expire over the next seconds (closeSession txns): wait for the members to agree.
            try await eventually(within: .seconds(60), pollEvery: .milliseconds(100)) {
                let figures = try members.map { try $0.treeFigures() }
                return Set(figures.map(\.zxid)).count == 1 && Set(figures.map(\.nodes)).count == 1
            }
            for (index, member) in members.enumerated() {
                #expect(await member.canaryIntact(seed: options.seed) == nil, "member \(index + 1)")
            }
        }
    }
}
