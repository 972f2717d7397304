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
            let ports = [Int64(1), 2, 3].map { members.port($0) }
            try await Self.takeoverChurn(seed: seed, ports: ports) { try await members.client(ports: $0) }
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }

    /// The churn itself, on the members at `ports`: three clients, each starting on another member and able to
    /// move to the others (`connect` makes a client that tries `ports` in that order); 45 seeded rounds of a
    /// takeover through a random member, a read, a conditional write or a conditional multi.
    static func takeoverChurn(seed: UInt64, ports: [Int], connect: ([Int]) async throws -> ZooKeeperClient) async throws {
        var clients: [ZooKeeperClient] = []
        for index in 0..<3 { clients.append(try await connect((0..<3).map { ports[($0 + index) % ports.count] })) }
        let sessions = clients.map { $0.session?.id }
        try await clients[0].create("/churn")
        var counts = [Int32](repeating: 0, count: clients.count)
        for index in clients.indices { try await clients[index].create(counter(index), data: bytes("0")) }

        var random = SplitMix64(seed: seed)
        for round in 0..<45 {
            let index = Int.random(in: 0..<clients.count, using: &random)
            let client = clients[index]
            let path = try counter(index)
            let version = counts[index]
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                // A takeover through any member: on the client's own it drops the connection; on another the
                // leader then counts that member as the session's, and the client must still get through.
                // Unanswered when the client, dropped by an earlier takeover, gets back first: part of the churn.
                let session = try #require(client.session)
                _ = try? SessionTakeover.resume(session, port: ports.randomElement(using: &random)!)
            case 1:
                try await completes("read \(round)") { try await client.getData(path).stat.version >= version }
            case 2:
                try await completes("write \(round)") {
                    try await applied(version) { try await client.setData(path, data: bytes("\(version + 1)"), version: version) }
                }
                counts[index] += 1
            default:
                try await completes("multi \(round)") {
                    try await applied(version) {
                        _ = try await client.multi([.check(path, version: version), .setData(path, data: bytes("\(version + 1)"), version: version)])
                    }
                }
                counts[index] += 1
            }
        }
        #expect(clients.map { $0.session?.id } == sessions, "no session expired or was replaced")
        for index in clients.indices {
            let path = try counter(index)
            try await completes("final sync") { _ = try await clients[0].sync(path); return true }
            let (data, stat) = try await clients[0].getData(path)
            #expect(stat.version == counts[index] && data == bytes("\(counts[index])"), "client \(index)'s acknowledged writes, once each")
        }
        for client in clients { await client.close() }
    }

    /// A takeover of `client`'s session through the member at `port` (after which the leader counts that member
    /// as the session's), then `request` from the client: it must fail with connection loss — closed unanswered,
    /// not refused with SESSIONMOVED, which would repeat on every retry — and the client must come back with the
    /// same session within `timeout`. The takeover's connection stays open until then.
    static func expectClosedAfterTakeover(
        of client: ZooKeeperClient, through port: Int, reconnectWithin timeout: Duration = .seconds(10),
        _ what: String, _ request: () async throws -> Void
    ) async throws {
        let session = try #require(client.session)
        let states = client.connectionStates()
        let takeover = try SessionTakeover.resume(session, port: port)
        do {
            try await request()
            Issue.record("\(what) was answered for a session the leader counts as another member's")
        } catch let error as ZooKeeperError {
            #expect(error.code == .connectionLoss, "\(what): closed unanswered")
        }
        try await withTimeout(timeout) {
            for await state in states where state == .reconnected { return }
        }
        withExtendedLifetime(takeover) {}
        #expect(client.session?.id == session.id)
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
