import ZooKeeperProtocol

/// The record that follows a ``TxnHeader`` in the transaction log, one case per txn type.
///
/// `create` and `create2` share `CreateTxn` but are distinct txn types (the type decides whether a
/// multi answers `CreateResponse` or `Create2Response`), so they are distinct cases.
package indirect enum TxnBody: Sendable, Hashable {
    case create(CreateTxn)
    case create2(CreateTxn)
    case createTTL(CreateTTLTxn)
    case createContainer(CreateContainerTxn)
    case delete(DeleteTxn)
    case deleteContainer(DeleteTxn)
    case setData(SetDataTxn)
    case setACL(SetACLTxn)
    case check(CheckVersionTxn)
    case error(ErrorTxn)
    case multi([TxnBody])
    case createSession(CreateSessionTxn)
    case closeSession(CloseSessionTxn)

    /// The txn type written in the header (or in a multi's `Txn.type`).
    package var type: OpCode {
        switch self {
        case .create: return .create
        case .create2: return .create2
        case .createTTL: return .createTTL
        case .createContainer: return .createContainer
        case .delete: return .delete
        case .deleteContainer: return .deleteContainer
        case .setData: return .setData
        case .setACL: return .setACL
        case .check: return .check
        case .error: return .error
        case .multi: return .multi
        case .createSession: return .createSession
        case .closeSession: return .closeSession
        }
    }

    /// Whether the leader refused the request because its session is served by another member now
    /// (an error txn, or a multi's error sub-txn, carrying SESSIONMOVED).
    package var isSessionMoved: Bool {
        switch self {
        case let .error(txn): return txn.err == ZooKeeperErrorCode.sessionMoved.rawValue
        case let .multi(bodies): return bodies.contains { $0.isSessionMoved }
        default: return false
        }
    }

    package func encode(to writer: inout JuteWriter) {
        switch self {
        case let .create(txn), let .create2(txn): writer.write(txn)
        case let .createTTL(txn): writer.write(txn)
        case let .createContainer(txn): writer.write(txn)
        case let .delete(txn), let .deleteContainer(txn): writer.write(txn)
        case let .setData(txn): writer.write(txn)
        case let .setACL(txn): writer.write(txn)
        case let .check(txn): writer.write(txn)
        case let .error(txn): writer.write(txn)
        case let .multi(bodies):
            writer.write(MultiTxn(txns: bodies.map { Txn(type: $0.type.rawValue, data: $0.bytes) }))
        case let .createSession(txn): writer.write(txn)
        case let .closeSession(txn): writer.write(txn)
        }
    }

    package var bytes: [UInt8] {
        var writer = JuteWriter()
        encode(to: &writer)
        return writer.bytes
    }

    package init(type: OpCode, from reader: inout JuteReader) throws(JuteDecodingError) {
        switch type {
        case .create: self = .create(try reader.read())
        case .create2: self = .create2(try reader.read())
        case .createTTL: self = .createTTL(try reader.read())
        case .createContainer: self = .createContainer(try reader.read())
        case .delete: self = .delete(try reader.read())
        case .deleteContainer: self = .deleteContainer(try reader.read())
        case .setData: self = .setData(try reader.read())
        case .setACL: self = .setACL(try reader.read())
        case .check: self = .check(try reader.read())
        case .error: self = .error(try reader.read())
        case .createSession: self = .createSession(try reader.read())
        case .closeSession: self = .closeSession(try reader.read())
        case .multi:
            let multi = try reader.read(MultiTxn.self)
            var bodies: [TxnBody] = []
            for txn in multi.txns {
                let subType = OpCode(rawValue: txn.type)
                // Only the ops a multi may hold (DataTree.processTxn rejects the rest).
                guard [.create, .create2, .createTTL, .createContainer, .delete, .deleteContainer,
                       .setData, .check, .error].contains(subType)
                else { throw .invalidValue(field: "Txn.type", value: Int64(txn.type)) }
                var sub = JuteReader(txn.data)
                bodies.append(try TxnBody(type: subType, from: &sub))
                try sub.expectEnd()
            }
            self = .multi(bodies)
        default:
            throw .invalidValue(field: "TxnHeader.type", value: Int64(type.rawValue))
        }
    }
}

/// One transaction-log entry: `TxnHeader`, the txn record, then the optional `TxnDigest` (Apache 3.8 writes
/// it in proposals and log entries; older servers and digest-less leaders leave it out).
package struct LoggedTxn: Sendable, Hashable {
    package var header: TxnHeader
    package var body: TxnBody
    /// The tree digest after this txn, as the proposing leader computed it (nil: none sent).
    package var digest: TxnDigest?

    package init(header: TxnHeader, body: TxnBody, digest: TxnDigest? = nil) {
        self.header = header
        self.body = body
        self.digest = digest
    }

    package var zxid: Int64 { header.zxid }

    /// This txn carrying `digest`.
    package func withDigest(_ digest: TxnDigest?) -> LoggedTxn {
        var txn = self
        txn.digest = digest
        return txn
    }

    /// The same transaction with or without its digest: the digest is a check on the tree, not part of the
    /// change (an Apache 3.7 leader sends the same txn without one).
    package static func == (lhs: LoggedTxn, rhs: LoggedTxn) -> Bool {
        lhs.header == rhs.header && lhs.body == rhs.body
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(header)
        hasher.combine(body)
    }

    package func encode() -> [UInt8] {
        var writer = JuteWriter()
        writer.write(header)
        body.encode(to: &writer)
        if let digest { writer.write(digest) }
        return writer.bytes
    }

    /// Reads a digest when bytes remain after the txn (Apache's `SerializeUtils.deserializeTxn`: EOF means none).
    package init(decoding bytes: [UInt8]) throws(JuteDecodingError) {
        var reader = JuteReader(bytes)
        header = try reader.read(TxnHeader.self)
        body = try TxnBody(type: OpCode(rawValue: header.type), from: &reader)
        if reader.remaining == 12 {
            digest = try reader.read(TxnDigest.self)
        }
        try reader.expectEnd()
    }
}
