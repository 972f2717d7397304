import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// Who a read-only member admits, and how the others are refused.
struct ReadOnlyHandshakeTests {
    static func connect(session: Int64 = 0, readOnly: Bool = true) -> ConnectRequest {
        ConnectRequest(protocolVersion: 0, lastZxidSeen: 0, timeOut: 4000, sessionId: session,
                       passwd: [UInt8](repeating: 0, count: 16), readOnly: readOnly)
    }

    static func local(connection: UInt64?) -> ServerSession {
        ServerSession(id: 7, timeout: 4000, expiresAt: 0, connectionID: connection)
    }

    static func answer(_ request: ConnectRequest, localSessions: Bool = true, local: ServerSession? = nil,
                       isGlobal: Bool = false, passwordMatches: Bool = true) -> ReadOnlyHandshake {
        ReadOnlyHandshake.of(request, on: 1, localSessionsEnabled: localSessions, local: local, isGlobal: isGlobal,
                             passwordMatches: passwordMatches)
    }

    @Test func aClientThatDidNotAskForReadOnlyIsRefusedWhateverItsSession() {
        #expect(Self.answer(Self.connect(readOnly: false)) == .refuseReadWriteClient)
        #expect(Self.answer(Self.connect(session: 7, readOnly: false), local: Self.local(connection: nil)) == .refuseReadWriteClient)
    }

    @Test func newSessionsAreLocalAndNeedLocalSessionsEnabled() {
        #expect(Self.answer(Self.connect()) == .createLocal)
        #expect(Self.answer(Self.connect(), localSessions: false) == .refuseNewSession)
    }

    @Test func aGlobalSessionIsRefusedAndAnUnknownOneExpired() {
        #expect(Self.answer(Self.connect(session: 7), isGlobal: true) == .refuseGlobal)
        #expect(Self.answer(Self.connect(session: 7)) == .expired)
    }

    @Test func aLocalSessionResumesWithItsPassword() {
        #expect(Self.answer(Self.connect(session: 7), local: Self.local(connection: nil), passwordMatches: false) == .expired)
        #expect(Self.answer(Self.connect(session: 7), local: Self.local(connection: nil)) == .resume(movedFrom: nil))
        #expect(Self.answer(Self.connect(session: 7), local: Self.local(connection: 1)) == .resume(movedFrom: nil))
        #expect(Self.answer(Self.connect(session: 7), local: Self.local(connection: 4)) == .resume(movedFrom: 4))
    }
}
