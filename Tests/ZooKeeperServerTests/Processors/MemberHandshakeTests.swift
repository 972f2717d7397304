import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// What an ensemble member does with a handshake: the quorum decides about sessions.
struct MemberHandshakeTests {
    static func answer(session: Int64 = 7, readOnly: Bool = false, serving: Bool = true, passwordMatches: Bool = true,
                       revalidating: UInt64? = nil) -> MemberHandshake {
        let request = ConnectRequest(protocolVersion: 0, lastZxidSeen: 0, timeOut: 4000, sessionId: session,
                                     passwd: [UInt8](repeating: 0, count: 16), readOnly: false)
        return MemberHandshake.of(request, on: 1, readOnly: readOnly, serving: serving, passwordMatches: passwordMatches,
                                  revalidating: revalidating)
    }

    @Test func readOnlyServiceComesFirstThenTheRole() {
        #expect(Self.answer(readOnly: true, serving: false) == .readOnly)
        #expect(Self.answer(serving: false) == .notServing)
        #expect(Self.answer(session: 0, serving: false) == .notServing)
    }

    @Test func aNewSessionIsCreatedThroughTheQuorum() {
        #expect(Self.answer(session: 0, passwordMatches: false) == .createSession, "no password to check yet")
    }

    @Test func aKnownSessionIsRevalidatedByTheLeaderIfItsPasswordMatches() {
        #expect(Self.answer(passwordMatches: false) == .expired)
        #expect(Self.answer() == .revalidate(replacing: nil))
        #expect(Self.answer(revalidating: 1) == .revalidate(replacing: nil), "the same connection again")
        #expect(Self.answer(revalidating: 3) == .revalidate(replacing: 3), "an earlier handshake elsewhere closes")
    }
}
