import Testing
import ZooKeeperClient
import ZooKeeperTestSupport
@testable import ZooKeeperServer

extension EnsembleClientTests {
    /// Session takeovers through random members while clients read, write and multi: the churn behind the
    /// session-moved bugs (a leader counting a session as another member's while its client stays put). Seeded
    /// choices; every operation must complete within a bound (a client refused for as long as it stays would
    /// hang here), no session may expire, and every acknowledged write must be there at the end, exactly once.
    @Test(arguments: [UInt64(11), 12])
    func sessionsTakenOverThroughRandomMembersKeepWorking(seed: UInt64) async throws {
        let members = try await Members.start()
        do {
            _ = try await members.settled()
            let sids: [Int64] = [1, 2, 3]
            var clients: [ZooKeeperClient] = []
            for index in 0..<3 {
                // Each client starts on another member, and may move to the others.
                clients.append(try await members.client((0..<3).map { sids[($0 + index) % 3] }))
            }
            let sessions = clients.map { $0.session?.id }
            try await clients[0].create("/churn")
            var counts = [Int32](repeating: 0, count: clients.count)
            for index in clients.indices { try await clients[index].create(Self.counter(index), data: Self.bytes("0")) }

            var random = SplitMix64(seed: seed)
            for round in 0..<45 {
                let index = Int.random(in: 0..<clients.count, using: &random)
                let client = clients[index]
                switch Int.random(in: 0..<4, using: &random) {
                case 0:
                    // A takeover through any member: on the client's own it drops the connection; on another
                    // the leader then counts that member as the session's, and the client must still get through.
                    let member = sids.randomElement(using: &random)!
                    let session = try #require(client.session)
                    // Unanswered when the client, dropped by an earlier takeover, gets back first: part of the churn.
                    _ = try? SessionTakeover.resume(session, port: members.port(member))
                case 1:
                    let expected = counts[index]
                    try await Self.completes("read \(round)") {
                        try await client.getData(Self.counter(index)).stat.version >= expected
                    }
                case 2:
                    let version = counts[index]
                    try await Self.completes("write \(round)") {
                        try await Self.applied(version) { try await client.setData(Self.counter(index), data: Self.bytes("\(version + 1)"), version: version) }
                    }
                    counts[index] += 1
                default:
                    let version = counts[index]
                    try await Self.completes("multi \(round)") {
                        try await Self.applied(version) {
                            _ = try await client.multi([.check(Self.counter(index), version: version),
                                                        .setData(Self.counter(index), data: Self.bytes("\(version + 1)"), version: version)])
                        }
                    }
                    counts[index] += 1
                }
            }
            #expect(clients.map { $0.session?.id } == sessions, "no session expired or was replaced")
            for index in clients.indices {
                try await Self.completes("final sync") { _ = try await clients[0].sync(Self.counter(index)); return true }
                let (data, stat) = try await clients[0].getData(Self.counter(index))
                #expect(stat.version == counts[index] && data == Self.bytes("\(counts[index])"), "client \(index)'s acknowledged writes, once each")
            }
            for client in clients { await client.close() }
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }

    static func counter(_ index: Int) throws -> ZNodePath { try ZNodePath("/churn/c\(index)") }

    /// Runs `operation` until it succeeds; a connection-level failure (the takeover closed the connection, or
    /// the client is between members) is retried, for at most 10 s.
    static func completes(_ what: String, _ operation: @escaping () async throws -> Bool) async throws {
        var lastError: (any Error)?
        do {
            try await eventually(within: .seconds(10)) {
                do {
                    return try await operation()
                } catch let error as ZooKeeperError where [.connectionLoss, .sessionMoved, .operationTimeout].contains(error.code) {
                    lastError = error
                    return false
                }
            }
        } catch {
            Issue.record("\(what) did not complete within 10 s; last error: \(lastError.map { "\($0)" } ?? "none")")
            throw error
        }
    }

    /// A conditional write at `version`: done, or already done by an earlier attempt lost with its connection.
    static func applied(_ version: Int32, _ write: () async throws -> Void) async throws -> Bool {
        do {
            try await write()
        } catch let error as ZooKeeperError where error.code == .badVersion {
            // Applied before the connection went: the node is past `version` (checked at the end).
        }
        return true
    }
}
