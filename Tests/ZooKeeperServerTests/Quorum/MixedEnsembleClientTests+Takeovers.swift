import Testing
import ZooKeeperClient
import ZooKeeperTestSupport
@testable import ZooKeeperServer

extension MixedEnsembleClientTests {
    /// `EnsembleClientTests`' takeover churn with two Apache 3.8 members in the ensemble, whose REVALIDATEs race
    /// the clients' own (an Apache member closes the old connection before it revalidates): our leader with
    /// Apache's followers, and Apache's leader with our follower. Every operation completes within a bound, no
    /// session expires, every acknowledged write is there exactly once.
    @Test(arguments: [true, false])
    func sessionsTakenOverThroughRandomMembersKeepWorking(oursLeads: Bool) async throws {
        let mixed = try Mixed(ours: oursLeads ? 3 : 1, apacheReady: oursLeads ? ["follower"] : ["leader", "follower"])
        do {
            let ports: [Int]
            if oursLeads {
                ports = [mixed.ourPort] + (try await mixed.startLedByOurs())
            } else {
                try await mixed.startApache()
                try await mixed.server.start()
                try await eventually(within: .seconds(30)) { mixed.ourMode() == "follower" }
                ports = [mixed.ourPort] + mixed.apache.keys.sorted().map { mixed.apache[$0]!.port }
            }
            try await EnsembleClientTests.takeoverChurn(seed: oursLeads ? 21 : 22, ports: ports) { try await mixed.client(ports: $0) }
        } catch {
            Issue.record("\(error)\n\(mixed.logs())")
        }
        await mixed.cleanup()
    }
}
