import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// Drives a `ZooKeeperDatabase` the way the request processor will: one zxid per logging request,
/// a manual clock, and every logged txn kept so tests can replay them.
struct DatabaseHarness {
    var db: ZooKeeperDatabase
    var nextZxid: Int64 = 1
    var now: Int64 = 1_000
    var log: [LoggedTxn] = []

    init(extendedTypesEnabled: Bool = false, enforceQuota: Bool = false) {
        db = ZooKeeperDatabase(extendedTypesEnabled: extendedTypesEnabled, enforceQuota: enforceQuota)
    }

    @discardableResult
    mutating func send(_ opCode: OpCode, _ record: some JuteEncodable, session: Int64 = 1, ids: [Id] = [], sessionMoved: Bool = false) -> ProcessResult {
        send(opCode, bytes: record.juteBytes(), session: session, ids: ids, sessionMoved: sessionMoved)
    }

    /// `sessionMoved`: as an ensemble leader that counts the session as another member's.
    @discardableResult
    mutating func send(_ opCode: OpCode, bytes: [UInt8], session: Int64 = 1, ids: [Id] = [], sessionMoved: Bool = false) -> ProcessResult {
        let request = ClientRequest(sessionId: session, cxid: 7, opCode: opCode, body: bytes, authIds: ids)
        let result = db.process(request, zxid: nextZxid, now: now, sessionMoved: sessionMoved)
        if let txn = result.txn {
            #expect(txn.header.zxid == nextZxid)
            log.append(txn)
            nextZxid += 1
        }
        return result
    }

    @discardableResult
    mutating func create(
        _ path: String, _ data: String = "", mode: CreateMode = .persistent, acl: [ACL] = .openACLUnsafe,
        session: Int64 = 1, ids: [Id] = [], opCode: OpCode = .create
    ) -> ProcessResult {
        send(opCode, CreateRequest(path: path, data: Array(data.utf8), acl: acl, flags: mode.rawValue), session: session, ids: ids)
    }

    @discardableResult
    mutating func createTTL(_ path: String, ttl: Int64, mode: CreateMode = .persistentWithTTL, session: Int64 = 1) -> ProcessResult {
        send(.createTTL, CreateTTLRequest(path: path, data: [], acl: .openACLUnsafe, flags: mode.rawValue, ttl: ttl), session: session)
    }

    @discardableResult
    mutating func delete(_ path: String, version: Int32 = -1, session: Int64 = 1, ids: [Id] = []) -> ProcessResult {
        send(.delete, DeleteRequest(path: path, version: version), session: session, ids: ids)
    }

    @discardableResult
    mutating func setData(_ path: String, _ data: String, version: Int32 = -1, session: Int64 = 1, ids: [Id] = []) -> ProcessResult {
        send(.setData, SetDataRequest(path: path, data: Array(data.utf8), version: version), session: session, ids: ids)
    }

    mutating func getData(_ path: String, watch: Bool = false, session: Int64 = 1, ids: [Id] = []) -> (ZooKeeperErrorCode, GetDataResponse?) {
        let result = send(.getData, GetDataRequest(path: path, watch: watch), session: session, ids: ids)
        return (result.err, result.err == .ok ? try? GetDataResponse(juteBytes: result.response) : nil)
    }

    mutating func stat(_ path: String) -> Stat? {
        let result = send(.exists, ExistsRequest(path: path, watch: false), ids: [Id(scheme: "super", id: "")])
        return result.err == .ok ? try? ExistsResponse(juteBytes: result.response).stat : nil
    }

    mutating func children(_ path: String, watch: Bool = false, session: Int64 = 1) -> [String]? {
        let result = send(.getChildren, GetChildrenRequest(path: path, watch: watch), session: session)
        return result.err == .ok ? try? GetChildrenResponse(juteBytes: result.response).children : nil
    }

    /// The tree's nodes as comparable values.
    var nodes: [String: DataNode] { db.tree.nodes }
}

extension ProcessResult {
    var createdPath: String? {
        if let response = try? CreateResponse(juteBytes: response) { return response.path }
        return try? Create2Response(juteBytes: response).path
    }

    var events: [String] {
        notifications.map { "\($0.sessionId) \(EventType(rawValue: $0.event.type)) \($0.event.path)" }
    }
}
