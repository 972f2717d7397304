import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// What a handshake leads to, and whether a standalone session may be resumed.
struct PrepProcessorHandshakeTests {
    static func connect(session: Int64 = 0, lastZxid: Int64 = 0, timeout: Int32 = 10_000) -> ConnectRequest {
        ConnectRequest(protocolVersion: 0, lastZxidSeen: lastZxid, timeOut: timeout, sessionId: session,
                       passwd: [UInt8](repeating: 0, count: 16), readOnly: false)
    }

    static func route(_ request: ConnectRequest, partitioned: Bool = false, lastZxid: Int64 = 5,
                      _ mode: PrepProcessor.Mode = .standalone) -> PrepProcessor.Handshake {
        PrepProcessor.handshake(request, partitioned: partitioned, lastZxid: lastZxid, mode: mode,
                                minTimeout: 4000, maxTimeout: 40_000)
    }

    @Test func aPartitionedSessionIsNeverAnsweredEvenIfBehind() {
        #expect(Self.route(Self.connect(session: 7, lastZxid: 99), partitioned: true) == .unanswered)
        #expect(Self.route(Self.connect(session: 7), partitioned: true, .member) == .unanswered)
    }

    @Test func aClientAheadOfTheServerIsRefusedInEveryMode() {
        #expect(Self.route(Self.connect(lastZxid: 6)) == .refuseBehind)
        #expect(Self.route(Self.connect(lastZxid: 6), .member) == .refuseBehind)
        #expect(Self.route(Self.connect(lastZxid: 5)) == .create(timeout: 10_000), "equal is caught up")
    }

    @Test func standaloneCreatesOrResumesWithTheNegotiatedTimeout() {
        #expect(Self.route(Self.connect(timeout: 1)) == .create(timeout: 4000))
        #expect(Self.route(Self.connect(session: 7, timeout: 90_000)) == .resume(session: 7, timeout: 40_000))
    }

    @Test func aMemberLeavesNewAndKnownSessionsToTheQuorum() {
        #expect(Self.route(Self.connect(), .member) == .member(timeout: 10_000))
        #expect(Self.route(Self.connect(session: 7), .member) == .member(timeout: 10_000))
    }

    static func session(connection: UInt64?, closing: Bool = false) -> ServerSession {
        ServerSession(id: 7, timeout: 4000, expiresAt: 0, connectionID: connection, isClosing: closing)
    }

    @Test func onlyALiveSessionWithItsPasswordResumes() {
        #expect(PrepProcessor.resume(nil, passwordMatches: true, on: 1) == .refused, "unknown or expired")
        #expect(PrepProcessor.resume(Self.session(connection: nil, closing: true), passwordMatches: true, on: 1) == .refused)
        #expect(PrepProcessor.resume(Self.session(connection: nil), passwordMatches: false, on: 1) == .refused)
        #expect(PrepProcessor.resume(Self.session(connection: nil), passwordMatches: true, on: 1) == .resumed(movedFrom: nil))
    }

    @Test func aSessionMovingClosesItsOldConnection() {
        #expect(PrepProcessor.resume(Self.session(connection: 3), passwordMatches: true, on: 1) == .resumed(movedFrom: 3))
        #expect(PrepProcessor.resume(Self.session(connection: 1), passwordMatches: true, on: 1) == .resumed(movedFrom: nil),
                "the same connection again")
    }
}
