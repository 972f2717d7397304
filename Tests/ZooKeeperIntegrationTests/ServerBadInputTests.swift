import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperServer
import ZooKeeperTestSupport

/// Hostile bytes on the client port: the offending connection gets an error reply or is closed,
/// the server never crashes and keeps serving a healthy session throughout.
@Suite("Bad input to our server", .timeLimit(.minutes(2)))
struct ServerBadInputTests {
    typealias R = RawConnection

    static func createRequest(xid: Int32, path: String, aclCount: Int32 = 1, withACL: Bool = true) -> [UInt8] {
        var bytes = R.int32(xid) + R.int32(1) + R.string(path) + R.int32(0) + R.int32(aclCount)
        if withACL { bytes += R.int32(31) + R.string("world") + R.string("anyone") }
        return bytes + R.int32(0)
    }

    /// What one hostile connection may legitimately see: an error reply, or the server closing it.
    enum Outcome: Equatable { case closed, errorReply(Int32) }

    static func outcome(_ connection: RawConnection) throws -> Outcome? {
        switch try connection.readFrame(within: .seconds(5)) {
        case .closed: return .closed
        case .timedOut: return nil
        case .frame(let frame):
            guard let err = R.replyError(frame), err != 0 else { return nil }
            return .errorReply(err)
        }
    }

    @Test("garbage, oversized frames, unknown opcode, request before handshake, truncated frame, bad path, huge vector count")
    func hostileConnections() async throws {
        try await withEmbeddedServer(inMemory: true) { server in
            let healthy = try await connectClient(server.connectString)
            try await healthy.create("/alive", data: [1])
            var step = 0
            func stillServing(_ label: String) async throws {
                step += 1
                _ = try await healthy.setData("/alive", data: [UInt8(step)])
                #expect(try await healthy.getData("/alive").data == [UInt8(step)], "after \(label)")
                let fresh = RawConnection.init
                let probe = try fresh("127.0.0.1", server.port, .seconds(5))
                #expect(try probe.handshake() != 0, "a new session after \(label)")
                #expect(try sendFourLetterWord("ruok", host: "127.0.0.1", port: server.port, timeout: .seconds(5)) == "imok")
            }

            // Garbage: a negative length.
            var c = try R(port: server.port)
            try c.write([0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3, 4, 5, 6, 7, 8])
            #expect(try c.waitForClose(), "negative frame length")
            try await stillServing("garbage")

            // Garbage with a plausible length: too short for a ConnectRequest.
            c = try R(port: server.port)
            try c.writeFrame([1, 2, 3, 4, 5, 6, 7])
            #expect(try c.waitForClose(), "short ConnectRequest")
            try await stillServing("short ConnectRequest")

            // A frame above jute.maxbuffer, before and after the handshake (only the header is sent).
            c = try R(port: server.port)
            try c.write(R.int32(64 << 20) + [0, 0, 0, 0])
            #expect(try c.waitForClose(), "oversized first frame")
            c = try R(port: server.port)
            _ = try c.handshake()
            try c.write(R.int32(Int32(server.server.configuration.maxBuffer + 1)) + R.int32(1) + R.int32(4))
            #expect(try c.waitForClose(), "oversized request frame")
            try await stillServing("oversized frames")

            // An unknown opcode: an error reply (Apache: the request fails) or a close; never silence.
            c = try R(port: server.port)
            _ = try c.handshake()
            try c.writeFrame(R.int32(1) + R.int32(999) + R.string("/"))
            let unknown = try Self.outcome(c)
            #expect(unknown != nil, "unknown opcode: no error reply and no close")
            try await stillServing("unknown opcode")

            // A request before the handshake: it cannot parse as a ConnectRequest.
            c = try R(port: server.port)
            try c.writeFrame(R.int32(1) + R.int32(4) + R.string("/") + [0])
            #expect(try c.waitForClose(), "request before handshake")
            try await stillServing("request before handshake")

            // A truncated frame, then EOF.
            c = try R(port: server.port)
            _ = try c.handshake()
            try c.write(R.int32(100) + [0, 0, 0, 1, 0, 0, 0, 4])
            c.shutdownWrite()
            #expect(try c.waitForClose(), "truncated frame then EOF")
            try await stillServing("truncated frame")

            // Invalid paths sent raw, answered as Apache's PrepRequestProcessor does: the parent is looked
            // up first ("bad//path" → parent "bad/" → NoNode -101), then the path is validated (-8).
            c = try R(port: server.port)
            _ = try c.handshake()
            for (xid, path, expected) in [(Int32(1), "bad//path", Int32(-101)), (2, "/alive/.", -8), (3, "/alive/", -8), (4, "/alive/a\u{0}b", -8)] {
                try c.writeFrame(Self.createRequest(xid: xid, path: path))
                let outcome = try Self.outcome(c)
                #expect(outcome == .errorReply(expected), "create \(path.debugDescription): \(String(describing: outcome))")
                if outcome == .closed { break }
            }
            try await stillServing("invalid path")

            // A huge vector count inside a record (2^31-1 ACLs, none sent): no allocation storm, the connection fails.
            c = try R(port: server.port)
            _ = try c.handshake()
            try c.writeFrame(Self.createRequest(xid: 1, path: "/v", aclCount: Int32.max, withACL: false))
            #expect(try Self.outcome(c) != nil, "huge vector count: no error reply and no close")
            try await stillServing("huge vector count")
            #expect(try await healthy.exists("/v") == nil)
            #expect(healthy.connectionState == .connected)
            await closeBounded(healthy)
        }
    }

    @Test("maxClientCnxns=2: the third connection from 127.0.0.1 is closed, the first two keep working")
    func perHostLimit() async throws {
        var configuration = EmbeddedServer.defaultConfiguration
        configuration.maxClientConnections = 2
        try await withEmbeddedServer(configuration: configuration, inMemory: true) { server in
            let first = try R(port: server.port)
            let second = try R(port: server.port)
            _ = try first.handshake()
            _ = try second.handshake()
            let third = try R(port: server.port)
            try? third.writeFrame(R.connectRequest())
            #expect(try third.waitForClose(), "the third connection was not closed")
            for connection in [first, second] {  // a ping each
                try connection.writeFrame(R.int32(-2) + R.int32(11))
                guard case .frame(let reply) = try connection.readFrame() else {
                    Issue.record("no ping reply on a connection within the limit")
                    continue
                }
                #expect(R.replyXid(reply) == -2 && R.replyError(reply) == 0)
            }
        }
    }
}
