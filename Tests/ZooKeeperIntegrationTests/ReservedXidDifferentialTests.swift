import Foundation
import Testing
import ZooKeeperProtocol
import ZooKeeperServer
import ZooKeeperTestSupport

/// Requests under the xids clients reserve for pings (-2) and auth packets (-4), and ping or auth packets
/// under ordinary xids, on raw frames: Apache 3.8 decides what a request is by its type, never by its xid,
/// and answers a ping under the ping xid whatever xid it came with. Ours must answer every probe as
/// Apache does (it once took any xid -2 for a ping: a create sent so was answered and never made).
@Suite("Reserved xids: Shepherd vs Apache ZooKeeper 3.8", .serialized, .timeLimit(.minutes(2)),
       .enabled(if: ApacheZooKeeper.isInstalled, Comment(rawValue: ApacheZooKeeper.notInstalledMessage)))
struct ReservedXidDifferentialTests {
    struct Answer: Equatable, CustomStringConvertible {
        var xid: Int32
        var err: Int32
        var bodyBytes: Int
        var description: String { "xid \(xid) err \(err) body \(bodyBytes) B" }
    }

    static let openACL: [ACL] = [ACL(perms: .all, id: Id(scheme: "world", id: "anyone"))]

    /// The probes, each on a fresh session: what is sent, by name.
    static let probes: [(name: String, xid: Int32, op: OpCode, body: [UInt8])] = [
        ("create under the ping xid", -2, .create, CreateRequest(path: "/under-ping-xid", data: [1], acl: openACL, flags: 0).juteBytes()),
        ("exists under the ping xid", -2, .exists, ExistsRequest(path: "/", watch: false).juteBytes()),
        ("setACL of a missing node under the ping xid", -2, .setACL, SetACLRequest(path: "/missing", acl: openACL, version: -1).juteBytes()),
        ("create under the auth xid", -4, .create, CreateRequest(path: "/under-auth-xid", data: [], acl: openACL, flags: 0).juteBytes()),
        ("a ping under xid 9", 9, .ping, []),
        ("an auth packet under xid 7", 7, .auth, AuthPacket(type: 0, scheme: "digest", auth: Array("user:secret".utf8)).juteBytes()),
    ]

    static func answers(port: Int) throws -> [Answer] {
        var answers: [Answer] = []
        for probe in probes {
            let connection = try RawConnection(port: port)
            defer { connection.reset() }
            _ = try connection.handshake()
            var writer = JuteWriter()
            writer.write(RequestHeader(xid: probe.xid, type: probe.op.rawValue))
            writer.writeRaw(probe.body)
            try connection.writeFrame(writer.bytes)
            guard case let .frame(frame) = try connection.readFrame(within: .seconds(5)),
                  let xid = RawConnection.replyXid(frame), let err = RawConnection.replyError(frame)
            else {
                throw TestSupportError("no answer to \(probe.name) on port \(port)")
            }
            answers.append(Answer(xid: xid, err: err, bodyBytes: frame.count - 16))
        }
        // Whether the creates were made.
        let check = try RawConnection(port: port)
        defer { check.reset() }
        _ = try check.handshake()
        for (index, path) in ["/under-ping-xid", "/under-auth-xid"].enumerated() {
            var writer = JuteWriter()
            writer.write(RequestHeader(xid: Int32(index + 1), type: OpCode.exists.rawValue))
            writer.writeRaw(ExistsRequest(path: path, watch: false).juteBytes())
            try check.writeFrame(writer.bytes)
            guard case let .frame(frame) = try check.readFrame(within: .seconds(5)), let err = RawConnection.replyError(frame) else {
                throw TestSupportError("no answer to exists \(path)")
            }
            answers.append(Answer(xid: Int32(index + 1), err: err, bodyBytes: frame.count - 16))
        }
        return answers
    }

    @Test func everyProbeIsAnsweredAsApacheAnswersIt() async throws {
        let apache = try await TestServerFixture.privateApacheServer(.init(extraConfig: ["forceSync=no"]))
        defer { apache.cleanup() }
        let apachePort = apache.port
        let theirs = try await onOwnThread { try Self.answers(port: apachePort) }
        try await apache.stop()
        let ours = try await withEmbeddedServer(inMemory: true) { server in
            let port = server.port
            return try await onOwnThread { try Self.answers(port: port) }
        }
        for (index, name) in (Self.probes.map(\.name) + ["/under-ping-xid exists", "/under-auth-xid exists"]).enumerated() {
            #expect(ours[index] == theirs[index], "\(name): ours \(ours[index]), Apache's \(theirs[index])")
        }
        #expect(theirs[0] == Answer(xid: -2, err: 0, bodyBytes: 19), "Apache creates under the ping xid (its path returned)")
        #expect(theirs[4] == Answer(xid: -2, err: 0, bodyBytes: 0), "Apache answers a ping under the ping xid")
    }
}
