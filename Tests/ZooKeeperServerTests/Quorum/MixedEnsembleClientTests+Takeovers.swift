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
            var clients: [ZooKeeperClient] = []
            for index in 0..<3 { clients.append(try await mixed.client(ports: (0..<3).map { ports[($0 + index) % 3] })) }
            let sessions = clients.map { $0.session?.id }
            try await clients[0].create("/churn")
            var counts = [Int32](repeating: 0, count: clients.count)
            for index in clients.indices { try await clients[index].create(EnsembleClientTests.counter(index), data: Self.bytes("0")) }

            var random = SplitMix64(seed: oursLeads ? 21 : 22)
            for round in 0..<45 {
                let index = Int.random(in: 0..<clients.count, using: &random)
                let client = clients[index]
                let path = try EnsembleClientTests.counter(index)
                let version = counts[index]
                switch Int.random(in: 0..<4, using: &random) {
                case 0:
                    let session = try #require(client.session)
                    // Unanswered when the client, dropped by an earlier takeover, gets back first: part of the churn.
                    _ = try? SessionTakeover.resume(session, port: ports.randomElement(using: &random)!)
                case 1:
                    try await EnsembleClientTests.completes("read \(round)") { try await client.getData(path).stat.version >= version }
                case 2:
                    try await EnsembleClientTests.completes("write \(round)") {
                        try await EnsembleClientTests.applied(version) { try await client.setData(path, data: Self.bytes("\(version + 1)"), version: version) }
                    }
                    counts[index] += 1
                default:
                    try await EnsembleClientTests.completes("multi \(round)") {
                        try await EnsembleClientTests.applied(version) {
                            _ = try await client.multi([.check(path, version: version), .setData(path, data: Self.bytes("\(version + 1)"), version: version)])
                        }
                    }
                    counts[index] += 1
                }
            }
            #expect(clients.map { $0.session?.id } == sessions, "no session expired or was replaced")
            for index in clients.indices {
                let path = try EnsembleClientTests.counter(index)
                try await EnsembleClientTests.completes("final sync") { _ = try await clients[0].sync(path); return true }
                let (data, stat) = try await clients[0].getData(path)
                #expect(stat.version == counts[index] && data == Self.bytes("\(counts[index])"), "client \(index)'s acknowledged writes, once each")
            }
            for client in clients { await client.close() }
        } catch {
            Issue.record("\(error)\n\(mixed.logs())")
        }
        await mixed.cleanup()
    }
}
