import ZooKeeperProtocol

/// One client request as the request-processor thread hands it over.
package struct ClientRequest: Sendable {
    package var sessionId: Int64
    package var cxid: Int32
    package var opCode: OpCode
    /// The request record's bytes (everything after the `RequestHeader`).
    package var body: [UInt8]
    /// The session's identities: `("ip", "127.0.0.1")`, `("digest", "user:hash")`, `("super", "")`.
    package var authIds: [Id]

    package init(sessionId: Int64, cxid: Int32, opCode: OpCode, body: [UInt8], authIds: [Id]) {
        self.sessionId = sessionId
        self.cxid = cxid
        self.opCode = opCode
        self.body = body
        self.authIds = authIds
    }
}

/// What one request did.
///
/// Notable behaviours (Apache 3.8):
/// - Every write logs a txn, failed ones too: a failed single write is an `ErrorTxn` under a header
///   of type -1 and consumes its zxid; a failed multi stays a `multi` txn whose ops are the txns
///   prepared before the failure, the failing op's `ErrorTxn(code)` and `ErrorTxn(-2)` for the rest.
/// - `replyZxid` is what the `ReplyHeader` carries: the last processed zxid after this request
///   (the write's own zxid for writes, failed or not; the current one for reads).
/// - Apache queues the notifications on the connections *before* it sends the reply (they are
///   produced while the txn is applied), including to the requesting session.
package struct ProcessResult: Sendable {
    package var txn: LoggedTxn?
    /// The ReplyHeader err; `.ok` for a failed multi (the per-op results are in the body).
    package var err: ZooKeeperErrorCode = .ok
    /// The response record (empty when `err != .ok` or the op has no body).
    package var response: [UInt8] = []
    package var notifications: [WatchNotification] = []
    package var replyZxid: Int64 = 0
    /// An unknown opcode or a top-level check: Apache replies `.unimplemented` and then closes the connection.
    package var closeConnection = false
    /// Soft-quota violations (only checked when quotas are enforced); Apache only logs them.
    package var quotaWarnings: [String] = []
}

/// The server's pure core: the data tree plus Apache's prep (request → txn) and final (apply,
/// reply, watches) logic. No threads, I/O or clocks: the caller passes zxids and the time.
package struct ZooKeeperDatabase: Sendable {
    package internal(set) var tree: DataTree
    /// `zookeeper.enforceQuota`: hard quota limits answer `.quotaExceeded`.
    package var enforceQuota: Bool
    /// Live sessions and their timeouts (from createSession/closeSession txns), for snapshots.
    package internal(set) var sessions: [Int64: Int32] = [:]
    /// A `create2` inside `multi` becomes a `create` (or `createContainer`) transaction, answered without its
    /// Stat, as Apache 3.8.0–3.8.1 do: an ensemble member's transactions must be ones Apache 3.8.0 members can
    /// apply (their DataTree has no create2 sub-transaction; ZOOKEEPER-4026 added it in 3.8.2).
    package var legacyMultiCreate = false

    package init(configuration: ServerConfiguration) {
        self.init(extendedTypesEnabled: configuration.extendedTypesEnabled, enforceQuota: configuration.enforceQuota)
        tree.setDigestEnabled(configuration.digestEnabled)
    }

    package init(extendedTypesEnabled: Bool = false, enforceQuota: Bool = false) {
        tree = DataTree(extendedTypesEnabled: extendedTypesEnabled)
        self.enforceQuota = enforceQuota
    }

    package var lastProcessedZxid: Int64 { tree.lastProcessedZxid }

    /// Applies the server's settings to a database recovered or received without them.
    package mutating func configure(extendedTypesEnabled: Bool, enforceQuota: Bool, legacyMultiCreate: Bool = false,
                                    digestEnabled: Bool = true) {
        tree.extendedTypesEnabled = extendedTypesEnabled
        tree.setDigestEnabled(digestEnabled)
        self.enforceQuota = enforceQuota
        self.legacyMultiCreate = legacyMultiCreate
    }

    /// A database that keeps this one's settings (for one that replaces it: a leader's snapshot, a truncation),
    /// and its digest statistics (Apache's mismatch count is the process's, not the tree's).
    package func carryingSettings(to other: ZooKeeperDatabase) -> ZooKeeperDatabase {
        var other = other
        other.configure(extendedTypesEnabled: extendedTypesEnabled, enforceQuota: enforceQuota, legacyMultiCreate: legacyMultiCreate,
                        digestEnabled: tree.digestEnabled)
        other.tree.digestStatistics = tree.digestStatistics
        return other
    }
    /// Apache's node count (one more than the znodes: its map holds the root twice).
    package var nodeCount: Int { tree.nodeCount }
    package var approximateDataSize: Int { tree.approximateDataSize }
    package var ephemeralCount: Int { tree.ephemeralCount }
    /// `mntr` `zk_watch_count`: data + child watches.
    package var watchCount: Int { tree.dataWatches.count + tree.childWatches.count }
    package var extendedTypesEnabled: Bool { tree.extendedTypesEnabled }

    /// Whether `opCode` is a write that logs a txn (and so consumes the zxid passed to ``process``).
    package static func logsTxn(_ opCode: OpCode) -> Bool {
        [.create, .create2, .createTTL, .createContainer, .delete, .deleteContainer, .setData, .setACL,
         .multi, .reconfig, .closeSession].contains(opCode)
    }

    /// Handles one client request. `zxid` is used only when ``logsTxn(_:)`` is true.
    /// `deleteContainer` (from ``expiredContainersAndTTLs(now:maxNeverUsedIntervalMs:)``) takes the
    /// path's UTF-8 bytes as its body, as Apache's ContainerManager sends it. Ping answers an empty
    /// reply. auth, sasl and createSession belong to the connection layer and answer `.unimplemented`.
    /// `sessionMoved`: an ensemble leader counts the session as another member's; its writes fail with
    /// SESSIONMOVED where Apache's prep checks the session (see ``RequestPreparer/sessionMoved``).
    package mutating func process(_ request: ClientRequest, zxid: Int64, now: Int64, sessionMoved: Bool = false) -> ProcessResult {
        switch request.opCode {
        case .closeSession:
            return closeSession(sessionId: request.sessionId, cxid: request.cxid, zxid: zxid, now: now)
        case .create, .create2, .createTTL, .createContainer, .delete, .deleteContainer, .setData, .setACL,
            .multi, .reconfig:
            return processWrite(request, zxid: zxid, now: now, sessionMoved: sessionMoved)
        case .check:
            // Only inside a multi. Alone it is refused like an unknown opcode and logs nothing, as in
            // Apache 3.9 (ZOOKEEPER-2623: 3.8.0 logs a txn that its own restart cannot replay).
            return ProcessResult(err: .unimplemented, replyZxid: lastProcessedZxid, closeConnection: true)
        case .ping:
            return ProcessResult(replyZxid: lastProcessedZxid)
        default:
            var result = processRead(request)
            result.notifications = tree.drainNotifications()
            result.replyZxid = lastProcessedZxid
            return result
        }
    }

    /// A new session: its `CreateSessionTxn` (already applied: the session is tracked).
    package mutating func createSession(sessionId: Int64, timeout: Int32, zxid: Int64, now: Int64) -> LoggedTxn {
        let txn = LoggedTxn(
            header: TxnHeader(clientId: sessionId, cxid: 0, zxid: zxid, time: now, type: OpCode.createSession.rawValue),
            body: .createSession(CreateSessionTxn(timeOut: timeout)))
        applyLogged(txn)
        return txn.withDigest(tree.txnDigest)
    }

    /// Closes (or expires) a session: a `CloseSessionTxn` listing its ephemerals, which are deleted
    /// with the usual notifications to other sessions; the session's own watches go first.
    package mutating func closeSession(sessionId: Int64, cxid: Int32 = 0, zxid: Int64, now: Int64) -> ProcessResult {
        let paths = orderedEphemerals(of: sessionId)
        let txn = LoggedTxn(
            header: TxnHeader(clientId: sessionId, cxid: cxid, zxid: zxid, time: now, type: OpCode.closeSession.rawValue),
            body: .closeSession(CloseSessionTxn(paths2Delete: paths)))
        // Apache applies the close first (FRP applyRequest, then the connection closes and its
        // watches go): the closing session's own watches fire too, before its close reply.
        var result = applyCommitted(txn)
        result.txn?.digest = tree.txnDigest
        return result
    }

    /// A session's ephemerals in Apache's `HashSet` order (``JavaHashSetOrder``).
    func orderedEphemerals(of sessionId: Int64) -> [String] {
        JavaHashSetOrder.ordered(tree.ephemerals(of: sessionId)) { tree.node($0)?.stat.czxid ?? 0 }
    }

    /// Drops every watch (they belong to connections: a member hands its tree back when all of its
    /// connections close).
    package mutating func removeAllWatches() {
        tree.dataWatches = WatchTable()
        tree.childWatches = WatchTable()
    }

    /// Drops every watch of a session. Apache does this when a *connection* closes (watches belong
    /// to the connection; a reconnecting client restores them with SetWatches), and on session close.
    package mutating func removeWatches(ofSession sessionId: Int64) {
        tree.dataWatches.removeSession(sessionId)
        tree.childWatches.removeSession(sessionId)
    }

    /// Makes room for `additionalNodes` more nodes before a replay (a hint; see ``DataTree/reserveCapacity(_:)``).
    package mutating func reserveNodeCapacity(additionalNodes: Int) {
        tree.reserveCapacity(tree.nodes.count + additionalNodes)
    }

    /// Recovery: applies a logged txn without checks; notifications are dropped. Like Apache, apply
    /// errors (e.g. a create already in a fuzzy snapshot) are reported in the result, not thrown.
    @discardableResult
    package mutating func replay(_ txn: LoggedTxn) -> TxnResult {
        let rc = applyLogged(txn)
        _ = tree.drainNotifications()
        return rc
    }

    @discardableResult
    mutating func applyLogged(_ txn: LoggedTxn) -> TxnResult {
        switch txn.body {
        case let .createSession(body): sessions[txn.header.clientId] = body.timeOut
        case .closeSession: sessions[txn.header.clientId] = nil
        default: break
        }
        return tree.processTxn(txn)
    }

    /// What Apache's ContainerManager would delete now: empty containers that have had a child
    /// (persisted cversion > 0) or, with `maxNeverUsedIntervalMs` != 0, are older than that since
    /// their mtime; empty TTL nodes whose `now - mtime > ttl`. Sorted. Send each back through
    /// ``process(_:zxid:now:)`` as `deleteContainer` with session 0.
    package func expiredContainersAndTTLs(now: Int64, maxNeverUsedIntervalMs: Int64 = 0) -> [String] {
        var candidates: Set<String> = []
        for path in tree.containers {
            guard let node = tree.node(path), node.children.isEmpty else { continue }
            if node.stat.cversion > 0 {
                candidates.insert(path)
            } else if maxNeverUsedIntervalMs != 0 && now - node.stat.mtime > maxNeverUsedIntervalMs {
                candidates.insert(path)
            }
        }
        for path in tree.ttls {
            guard let node = tree.node(path), node.children.isEmpty, tree.kind(of: node) == .ttl else { continue }
            let ttl = EphemeralKind.ttl(ofOwner: node.stat.ephemeralOwner)
            if ttl != 0 && now - node.stat.mtime > ttl { candidates.insert(path) }
        }
        return candidates.sorted()
    }

    /// A `deleteContainer` request for ``process(_:zxid:now:)``.
    package static func deleteContainerRequest(path: String) -> ClientRequest {
        ClientRequest(sessionId: 0, cxid: 0, opCode: .deleteContainer, body: Array(path.utf8), authIds: [])
    }
}
