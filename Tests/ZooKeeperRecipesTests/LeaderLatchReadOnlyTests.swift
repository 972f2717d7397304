import Testing
import ZooKeeperClient
import ZooKeeperProtocol
import ZooKeeperRecipes
import ZooKeeperTestSupport

/// A stale read-only server (a partitioned minority member) that still answers as if the election
/// were ours: the latch must not lead on what it reads there.
@Suite("LeaderLatch on a read-only server", .timeLimit(.minutes(1)))
struct LeaderLatchReadOnlyTests {
    @Test("connected to a read-only server, a latch never claims leadership")
    func readOnlyIsNotConnectedForLeadership() async throws {
        let session: Int64 = 0x1234
        let server = try ScriptedServer { connection, _ in
            guard connection.acceptHandshake(sessionId: session, readOnly: true) != nil else { return }
            var created: [String] = []
            connection.serveRequests { header, body in
                Self.answer(header, body, session: session, created: &created)
            }
        }
        defer { server.stop() }
        var configuration = try ZooKeeperConfiguration(connectionString: server.connectString)
        configuration.allowReadOnly = true
        configuration.initialConnectionTimeout = .seconds(10)
        let client = try await ZooKeeperClient.connect(configuration)
        #expect(client.connectionState == .readOnly)
        let latch = LeaderLatch(client: client, path: "/election/read-only", id: "a")
        try await latch.start()
        // The stale view says our node is first and ours: only the connection state can stop a claim.
        await #expect(throws: LeaderLatchError.timedOut, "led on a read-only server") { try await latch.waitForLeadership(timeout: .seconds(2)) }
        #expect(!latch.hasLeadership)
        await latch.close()
        await client.close()
    }

    @Test("connected to a read-only server, a leader selector never starts a term")
    func selectorDoesNotLeadReadOnly() async throws {
        let session: Int64 = 0x1234
        let server = try ScriptedServer { connection, _ in
            guard connection.acceptHandshake(sessionId: session, readOnly: true) != nil else { return }
            var created: [String] = []
            connection.serveRequests { header, body in
                Self.answer(header, body, session: session, created: &created)
            }
        }
        defer { server.stop() }
        var configuration = try ZooKeeperConfiguration(connectionString: server.connectString)
        configuration.allowReadOnly = true
        configuration.initialConnectionTimeout = .seconds(10)
        let client = try await ZooKeeperClient.connect(configuration)
        #expect(client.connectionState == .readOnly)
        let terms = Box(0)
        let selector = LeaderSelector(client: client, path: "/election/read-only-selector", id: "a")
        try await selector.start { _ in
            terms.update { $0 += 1 }
            try await suspendUntilCancelled()
        }
        // An observation window for a term that must not start.
        let neverLed = await neverHappens(within: .seconds(2)) { terms.get > 0 }
        #expect(neverLed && terms.get == 0, "a term started on a read-only server")
        await selector.close()
        await client.close()
    }

    /// Replies as a server whose (stale) view makes our latch node the first and our session's.
    private static func answer(_ header: RequestHeader, _ body: [UInt8], session: Int64, created: inout [String]) -> [UInt8]? {
        func reply(_ body: [UInt8] = [], err: Int32 = 0) -> [UInt8] {
            Frame.encode(ReplyHeader(xid: header.xid, zxid: 0x10, err: err).juteBytes() + body)
        }
        let ours = Stat(czxid: 0x10, mzxid: 0x10, ephemeralOwner: session)
        switch OpCode(rawValue: header.type) {
        case .ping, .closeSession, .delete:
            return reply()
        case .create, .create2:
            var reader = JuteReader(body)
            guard let request = try? CreateRequest(from: &reader) else { return reply(err: ZooKeeperErrorCode.marshallingError.rawValue) }
            let path = request.path + "0000000001"
            created.append(String(path.split(separator: "/").last ?? ""))
            return header.type == OpCode.create2.rawValue
                ? reply(Create2Response(path: path, stat: ours).juteBytes()) : reply(CreateResponse(path: path).juteBytes())
        case .getChildren:
            return reply(GetChildrenResponse(children: created).juteBytes())
        case .getData:
            return reply(GetDataResponse(data: [], stat: ours).juteBytes())
        case .exists:
            return reply(ours.juteBytes())
        default:
            return reply(err: ZooKeeperErrorCode.unimplemented.rawValue)
        }
    }
}
