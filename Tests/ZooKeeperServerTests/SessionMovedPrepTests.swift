import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// An ensemble leader's prep for a session it counts as another member's: SESSIONMOVED exactly where
/// Apache 3.8's `PrepRequestProcessor` calls `checkSession`, so the txn log holds what Apache's leader logs.
@Suite struct SessionMovedPrepTests {
    func create(_ path: String, _ mode: CreateMode = .persistent) -> CreateRequest {
        CreateRequest(path: path, data: [], acl: .openACLUnsafe, flags: mode.rawValue)
    }

    @Test func aMovedSessionsWritesAreLoggedAsSessionMovedErrors() {
        var h = DatabaseHarness()
        h.create("/a")
        let before = h.nodes
        let moved = ErrorTxn(err: ZooKeeperErrorCode.sessionMoved.rawValue)
        let writes: [(OpCode, any JuteEncodable)] = [
            (.setData, SetDataRequest(path: "/a", data: [1], version: -1)),
            // The session is checked before the node's existence, version or ACL.
            (.delete, DeleteRequest(path: "/missing", version: 7)),
            (.setACL, SetACLRequest(path: "/a", acl: .openACLUnsafe, version: 9)),
            // validateCreateRequest checks the session before the path: an existing node is not NODEEXISTS.
            (.create, create("/a")),
            (.create2, create("/b", .ephemeral)),
        ]
        for (opCode, record) in writes {
            let result = h.send(opCode, bytes: record.juteBytes(), sessionMoved: true)
            #expect(result.err == .sessionMoved, "\(opCode)")
            #expect(result.txn?.header.type == OpCode.error.rawValue, "\(opCode)")
            #expect(result.txn?.body == .error(moved), "\(opCode)")
            #expect(result.txn?.body.isSessionMoved == true, "\(opCode)")
        }
        #expect(h.nodes == before)
        // The same session, not moved, writes.
        #expect(h.setData("/a", "x").err == .ok)
    }

    @Test func aCreatesTTLChecksComeBeforeTheSessionCheck() {
        var h = DatabaseHarness()  // extended types off: a TTL create is UNIMPLEMENTED first, as in Apache
        let ttl = CreateTTLRequest(path: "/t", data: [], acl: .openACLUnsafe, flags: CreateMode.persistentWithTTL.rawValue, ttl: 10)
        let result = h.send(.createTTL, ttl, sessionMoved: true)
        #expect(result.err == .unimplemented)
        #expect(result.txn?.body.isSessionMoved == false)
    }

    @Test func aMovedSessionsMultiFailsAtItsFirstOpAsApachesLeaderLogsIt() throws {
        var h = DatabaseHarness()
        h.create("/m")
        let before = h.nodes
        let result = h.send(.multi, MultiOperationRecord(ops: [
            .create(create("/m/x")), .setData(SetDataRequest(path: "/m", data: [], version: -1)),
            .check(CheckVersionRequest(path: "/m", version: 0)),
        ]), sessionMoved: true)
        #expect(result.err == .ok)  // a failed multi is a successful RPC, with per-op results
        #expect(result.txn?.header.type == OpCode.multi.rawValue)
        #expect(result.txn?.body == .multi([
            .error(ErrorTxn(err: ZooKeeperErrorCode.sessionMoved.rawValue)),
            .error(ErrorTxn(err: ZooKeeperErrorCode.runtimeInconsistency.rawValue)),
            .error(ErrorTxn(err: ZooKeeperErrorCode.runtimeInconsistency.rawValue)),
        ]))
        #expect(result.txn?.body.isSessionMoved == true)
        #expect(try MultiResponse(juteBytes: result.response) == MultiResponse(results: [
            .error(.sessionMoved), .error(.runtimeInconsistency), .error(.runtimeInconsistency),
        ]))
        #expect(h.nodes == before)
    }

    @Test func anEmptyMultiChecksNoSession() {
        var h = DatabaseHarness()
        let result = h.send(.multi, MultiOperationRecord(ops: []), sessionMoved: true)
        #expect(result.txn?.body == .multi([]))
        #expect(result.txn?.body.isSessionMoved == false)
    }
}
