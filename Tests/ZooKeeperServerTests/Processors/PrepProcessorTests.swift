import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// Where a request goes, standalone and on a member, before anything is applied.
struct PrepProcessorTests {
    typealias Route = PrepProcessor.Route
    let session: Int64 = 0x42

    func route(xid: Int32 = 1, _ opCode: OpCode, from sender: PrepProcessor.Session? = nil, _ mode: PrepProcessor.Mode) -> Route {
        PrepProcessor.route(RequestHeader(xid: xid, type: opCode.rawValue), session: sender ?? .alive(session), mode: mode)
    }

    @Test func aRequestBeforeTheHandshakeIsAbortedInEveryMode() {
        #expect(route(.getData, from: PrepProcessor.Session.none, .standalone) == .abort)
        #expect(route(.getData, from: PrepProcessor.Session.none, .member) == .abort)
        #expect(route(xid: ReservedXid.ping, .ping, from: PrepProcessor.Session.none, .standalone) == .abort)
    }

    @Test func aGoneSessionIsExpiredStandaloneButDroppedOnAMember() {
        #expect(route(.setData, from: .gone(session), .standalone) == .sessionExpired)
        #expect(route(xid: ReservedXid.ping, .ping, from: .gone(session), .standalone) == .sessionExpired)
        #expect(route(.setData, from: .gone(session), .member) == .drop, "the leader decides a session's fate")
        #expect(route(xid: ReservedXid.auth, .auth, from: .gone(session), .member) == .drop)
    }

    /// Apache 3.8 decides by type (checked against a live server): a create sent with the ping xid creates,
    /// a ping or auth packet under any xid is one, a create under the auth xid is a create.
    @Test func standaloneRoutesByOpcodeNotByReservedXids() {
        #expect(route(xid: ReservedXid.ping, .ping, .standalone) == .ping)
        #expect(route(xid: 9, .ping, .standalone) == .ping)
        #expect(route(xid: ReservedXid.auth, .auth, .standalone) == .auth)
        #expect(route(xid: 7, .auth, .standalone) == .auth)
        #expect(route(xid: ReservedXid.ping, .create, .standalone) == .apply(session: session))
        #expect(route(xid: ReservedXid.ping, .exists, .standalone) == .apply(session: session))
        #expect(route(xid: ReservedXid.auth, .create, .standalone) == .apply(session: session))
        #expect(route(.closeSession, .standalone) == .closeSession(session))
        #expect(route(.getData, .standalone) == .apply(session: session))
        #expect(route(.setData, .standalone) == .apply(session: session))
        #expect(route(.multi, .standalone) == .apply(session: session))
        #expect(route(.sync, .standalone) == .apply(session: session))
        #expect(route(xid: ReservedXid.setWatches, .setWatches, .standalone) == .apply(session: session))
        #expect(route(.check, .standalone) == .apply(session: session), "the database refuses it (UNIMPLEMENTED)")
    }

    @Test func serverInternalOpcodesAreRefusedInEveryMode() {
        for opCode in [OpCode.createSession, .deleteContainer] {
            #expect(route(opCode, .standalone) == .refuse)
            #expect(route(opCode, .member) == .refuse)
        }
    }

    @Test func aMemberOrdersEverythingButAuthPerSession() {
        #expect(route(xid: ReservedXid.ping, .ping, .member) == .commitQueue(session: session), "pings wait their turn")
        #expect(route(xid: ReservedXid.auth, .auth, .member) == .auth)
        #expect(route(xid: 7, .auth, .member) == .auth)
        #expect(route(xid: ReservedXid.auth, .setData, .member) == .commitQueue(session: session))
        for opCode in [OpCode.getData, .create, .setData, .sync, .closeSession, .multi, .setWatches2] {
            #expect(route(opCode, .member) == .commitQueue(session: session))
        }
    }

    static func auth(_ scheme: String, _ text: String) -> [UInt8] {
        AuthPacket(type: 0, scheme: scheme, auth: Array(text.utf8)).juteBytes()
    }

    @Test func digestAuthNamesTheUserAndDigestsTheWholeText() {
        let granted = PrepProcessor.authenticate(Self.auth("digest", "alice:secret"), remoteHost: "10.0.0.1", superDigest: nil)
        let digest = Base64.encode(SHA1.hash(Array("alice:secret".utf8)))
        #expect(granted == .granted([Id(scheme: "digest", id: "alice:\(digest)")]))
        let noColon = PrepProcessor.authenticate(Self.auth("digest", "bob"), remoteHost: nil, superDigest: nil)
        #expect(noColon == .granted([Id(scheme: "digest", id: "bob:\(Base64.encode(SHA1.hash(Array("bob".utf8))))")]))
    }

    @Test func theSuperDigestAddsSuperFirst() {
        let digest = "super:\(Base64.encode(SHA1.hash(Array("super:pw".utf8))))"
        let granted = PrepProcessor.authenticate(Self.auth("digest", "super:pw"), remoteHost: nil, superDigest: digest)
        #expect(granted == .granted([Id(scheme: "super", id: ""), Id(scheme: "digest", id: digest)]))
    }

    @Test func ipAuthIsTheConnectionsAddressWhateverTheCredentials() {
        #expect(PrepProcessor.authenticate(Self.auth("ip", "1.2.3.4"), remoteHost: "10.0.0.1", superDigest: nil)
                == .granted([Id(scheme: "ip", id: "10.0.0.1")]))
        #expect(PrepProcessor.authenticate(Self.auth("ip", ""), remoteHost: nil, superDigest: nil) == .ignored)
    }

    @Test func unknownSchemesFailAndGarbageIsMalformed() {
        #expect(PrepProcessor.authenticate(Self.auth("sasl", "x"), remoteHost: "h", superDigest: nil) == .failed)
        #expect(PrepProcessor.authenticate([0, 0, 0], remoteHost: "h", superDigest: nil) == .malformed)
    }

    @Test func theTimeoutIsClampedToTheServersBounds() {
        #expect(PrepProcessor.negotiatedTimeout(100, min: 4000, max: 40000) == 4000)
        #expect(PrepProcessor.negotiatedTimeout(10000, min: 4000, max: 40000) == 10000)
        #expect(PrepProcessor.negotiatedTimeout(.max, min: 4000, max: 40000) == 40000)
    }

    @Test func shortNamesAndPaths() {
        #expect(PrepProcessor.shortName(.create2) == "CREA")
        #expect(PrepProcessor.shortName(.setWatches2) == "SETW")
        #expect(PrepProcessor.path(of: .getData, body: GetDataRequest(path: "/a/b", watch: true).juteBytes()) == "/a/b")
        #expect(PrepProcessor.path(of: .ping, body: []) == nil)
    }
}
