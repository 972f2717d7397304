import ZooKeeperProtocol

// The write path: PrepRequestProcessor (request → txn), DataTree.processTxn (apply) and the
// FinalRequestProcessor reply for writes.
extension ZooKeeperDatabase {
    mutating func processWrite(_ request: ClientRequest, zxid: Int64, now: Int64, sessionMoved: Bool = false) -> ProcessResult {
        // The preparer reads a copy of the tree; it must be gone before the txn is applied, or the
        // tree's storage is shared and every write copies the whole node map.
        let (body, quotaWarnings) = prepare(request, zxid: zxid, now: now, sessionMoved: sessionMoved)
        let header = TxnHeader(
            clientId: request.sessionId, cxid: request.cxid, zxid: zxid, time: now, type: body.type.rawValue)
        var result = applyCommitted(LoggedTxn(header: header, body: body))
        // Prep's TxnDigest: the tree digest after this txn (Apache computes it from its outstanding changes).
        result.txn?.digest = tree.txnDigest
        result.quotaWarnings = quotaWarnings
        return result
    }

    /// FinalRequestProcessor for a transaction prepared elsewhere (an ensemble member applying what the
    /// leader committed): applies it and builds the reply its request gets, with the notifications.
    /// `closeSession` goes through ``closeSession(txn:)``'s rules (the session's watches go too).
    package mutating func applyCommitted(_ txn: LoggedTxn) -> ProcessResult {
        if case .closeSession = txn.body {
            let rc = tree.processTxn(txn)
            removeWatches(ofSession: txn.header.clientId)
            sessions[txn.header.clientId] = nil
            return ProcessResult(txn: txn, err: rc.err, notifications: tree.drainNotifications(), replyZxid: lastProcessedZxid)
        }
        let rc = applyLogged(txn)
        var result = ProcessResult(txn: txn, notifications: tree.drainNotifications(), replyZxid: lastProcessedZxid)
        let body = txn.body
        if case .multi = body {
            result.response = MultiResponse(results: rc.multiResult.map(Self.multiResult)).juteBytes()
            return result
        }
        result.err = rc.err
        guard rc.err == .ok else { return result }
        switch body {
        case .create:
            result.response = CreateResponse(path: rc.path ?? "").juteBytes()
        case .create2, .createTTL, .createContainer:
            result.response = Create2Response(path: rc.path ?? "", stat: rc.stat ?? Stat()).juteBytes()
        case .setData:
            result.response = SetDataResponse(stat: rc.stat ?? Stat()).juteBytes()
        case .setACL:
            result.response = SetACLResponse(stat: rc.stat ?? Stat()).juteBytes()
        default:
            break
        }
        return result
    }

    /// PrepRequestProcessor: the txn a write request becomes (an ErrorTxn when it fails).
    private func prepare(_ request: ClientRequest, zxid: Int64, now: Int64, sessionMoved: Bool) -> (TxnBody, [String]) {
        var preparer = RequestPreparer(
            tree: tree, sessionId: request.sessionId, ids: request.authIds, zxid: zxid, time: now,
            enforceQuota: enforceQuota, sessionMoved: sessionMoved)
        if request.opCode == .multi {
            return (prepareMulti(request.body, preparer: &preparer), preparer.quotaWarnings)
        }
        do {
            return (try preparer.prepare(try Self.decodeWrite(request.opCode, request.body)), preparer.quotaWarnings)
        } catch {
            return (.error(ErrorTxn(err: error.code.rawValue)), preparer.quotaWarnings)
        }
    }

    /// Prepares every op of a multi against the pending changes of the earlier ones. After the first
    /// failure the pending changes are rolled back and the remaining ops become ErrorTxn(-2).
    private func prepareMulti(_ bytes: [UInt8], preparer: inout RequestPreparer) -> TxnBody {
        let record: MultiOperationRecord
        do {
            record = try MultiOperationRecord(juteBytes: bytes)
        } catch {
            return .error(ErrorTxn(err: ZooKeeperErrorCode.marshallingError.rawValue))
        }
        var ops: [WriteOp] = []
        for op in record.ops {
            switch op {
            case let .create(request): ops.append(.create(request, type: .create))
            case let .create2(request):
                // 3.8.0's MultiOperationRecord turns it into Op.create, whose opcode follows the flags.
                let legacyType: OpCode = CreateMode(rawValue: request.flags)?.isContainer == true ? .createContainer : .create
                ops.append(.create(request, type: legacyMultiCreate ? legacyType : .create2))
            case let .createContainer(request): ops.append(.create(request, type: .createContainer))
            case let .createTTL(request): ops.append(.createTTL(request))
            case let .delete(request): ops.append(.delete(request))
            case let .setData(request): ops.append(.setData(request))
            case let .check(request): ops.append(.check(request))
            case .getChildren, .getData:
                // Read ops in a write multi: Apache fails the whole request while marshalling.
                return .error(ErrorTxn(err: ZooKeeperErrorCode.marshallingError.rawValue))
            }
        }
        var bodies: [TxnBody] = []
        var failed = false
        for op in ops {
            if failed {
                bodies.append(.error(ErrorTxn(err: ZooKeeperErrorCode.runtimeInconsistency.rawValue)))
                continue
            }
            do {
                bodies.append(try preparer.prepare(op))
            } catch {
                failed = true
                bodies.append(.error(ErrorTxn(err: error.code.rawValue)))
                preparer.pending = [:]
            }
        }
        return .multi(bodies)
    }

    /// Decodes a single write's request record; a bad record is a marshalling error.
    static func decodeWrite(_ opCode: OpCode, _ bytes: [UInt8]) throws(DataTreeError) -> WriteOp {
        do {
            switch opCode {
            case .create, .create2, .createContainer: return .create(try CreateRequest(juteBytes: bytes), type: opCode)
            case .createTTL: return .createTTL(try CreateTTLRequest(juteBytes: bytes))
            case .delete: return .delete(try DeleteRequest(juteBytes: bytes))
            case .deleteContainer: return .deleteContainer(path: String(decoding: bytes, as: UTF8.self))
            case .setData: return .setData(try SetDataRequest(juteBytes: bytes))
            case .setACL: return .setACL(try SetACLRequest(juteBytes: bytes))
            case .reconfig: throw DataTreeError(.reconfigDisabled)
            default: throw DataTreeError(.marshallingError)
            }
        } catch let error as DataTreeError {
            throw error
        } catch {
            throw DataTreeError(.marshallingError)
        }
    }

    /// FinalRequestProcessor's per-op result: create → CreateResponse; create2, createTTL and
    /// createContainer → Create2Response under type create2 (`OpResult.CreateResult(path, stat)`).
    static func multiResult(_ rc: TxnResult) -> MultiResult {
        switch rc.type {
        case .check: return .check
        case .create: return .create(CreateResponse(path: rc.path ?? ""))
        case .create2, .createTTL, .createContainer:
            return .create2(Create2Response(path: rc.path ?? "", stat: rc.stat ?? Stat()), opCode: .create2)
        case .delete, .deleteContainer: return .delete
        case .setData: return .setData(SetDataResponse(stat: rc.stat ?? Stat()))
        default: return .error(rc.err)
        }
    }
}
