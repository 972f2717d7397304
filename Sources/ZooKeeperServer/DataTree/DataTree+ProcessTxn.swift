import ZooKeeperProtocol

/// What applying one txn did (Apache's `ProcessTxnResult`).
package struct TxnResult: Sendable, Hashable {
    package var type: OpCode
    package var err: ZooKeeperErrorCode = .ok
    package var path: String?
    package var stat: Stat?
    package var multiResult: [TxnResult] = []
}

extension DataTree {
    /// `DataTree.processTxn`: applies a logged txn. Errors become `err` in the result, never throws.
    /// Also used for recovery; watch notifications accumulate in ``drainNotifications()``.
    package mutating func processTxn(_ txn: LoggedTxn) -> TxnResult {
        let header = txn.header
        var result = apply(txn.body, header: header)
        if case let .create(create) = txn.body, result.err == .nodeExists {
            // A create replayed over a fuzzy snapshot: bring the parent's cversion/pzxid up to date.
            if let parent = javaParentPath(create.path) {
                do {
                    try setCversionPzxid(path: parent, cversion: create.parentCVersion, zxid: header.zxid)
                } catch {
                    result.err = error.code
                }
            }
        }
        if header.zxid > lastProcessedZxid { lastProcessedZxid = header.zxid }
        if let digest = txn.digest { compareDigest(digest, zxid: header.zxid) }
        return result
    }

    private mutating func apply(_ body: TxnBody, header: TxnHeader) -> TxnResult {
        var result = TxnResult(type: body.type)
        do {
            switch body {
            case let .create(txn), let .create2(txn):
                result.path = txn.path
                let stat = try createNode(
                    path: txn.path, data: txn.data, acl: txn.acl,
                    ephemeralOwner: txn.ephemeral ? header.clientId : 0, parentCVersion: txn.parentCVersion,
                    zxid: header.zxid, time: header.time)
                if case .create2 = body { result.stat = stat }
            case let .createTTL(txn):
                result.path = txn.path
                result.stat = try createNode(
                    path: txn.path, data: txn.data, acl: txn.acl,
                    ephemeralOwner: EphemeralKind.ttlOwner(txn.ttl) ?? (EphemeralOwner.ttlMask | (txn.ttl & EphemeralOwner.maxTTL)),
                    parentCVersion: txn.parentCVersion, zxid: header.zxid, time: header.time)
            case let .createContainer(txn):
                result.path = txn.path
                result.stat = try createNode(
                    path: txn.path, data: txn.data, acl: txn.acl, ephemeralOwner: EphemeralOwner.container,
                    parentCVersion: txn.parentCVersion, zxid: header.zxid, time: header.time)
            case let .delete(txn), let .deleteContainer(txn):
                result.path = txn.path
                try deleteNode(path: txn.path, zxid: header.zxid)
            case let .setData(txn):
                result.path = txn.path
                result.stat = try setData(path: txn.path, data: txn.data, version: txn.version, zxid: header.zxid, time: header.time)
            case let .setACL(txn):
                result.path = txn.path
                result.stat = try setACL(path: txn.path, acl: txn.acl, version: txn.version)
            case let .closeSession(txn):
                killSession(header.clientId, zxid: header.zxid, paths: txn.paths2Delete)
            case let .error(txn):
                result.err = ZooKeeperErrorCode(rawValue: txn.err)
            case let .check(txn):
                result.path = txn.path
            case .createSession:
                break
            case let .multi(bodies):
                applyMulti(bodies, header: header, into: &result)
            }
        } catch {
            result.err = error.code
        }
        return result
    }

    /// A multi with any error txn applies nothing: the txns before the failure become ErrorTxn(0),
    /// after it ErrorTxn(-2) (they already are, from prep), and the result's err is the first code.
    private mutating func applyMulti(_ bodies: [TxnBody], header: TxnHeader, into result: inout TxnResult) {
        let failed = bodies.contains { $0.type == .error }
        var postFailed = false
        for var body in bodies {
            if case .error = body { postFailed = true }
            if failed, body.type != .error {
                body = .error(ErrorTxn(err: postFailed ? ZooKeeperErrorCode.runtimeInconsistency.rawValue : 0))
            }
            let subHeader = TxnHeader(
                clientId: header.clientId, cxid: header.cxid, zxid: header.zxid, time: header.time,
                type: body.type.rawValue)
            let sub = apply(body, header: subHeader)
            result.multiResult.append(sub)
            if sub.err != .ok && result.err == .ok { result.err = sub.err }
        }
    }
}
