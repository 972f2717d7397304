// The multi / multiRead framing (`MultiOperationRecord.java`, `MultiResponse.java`): not jute-generated
// records, but lists of `MultiHeader`-prefixed records ended by `MultiHeader{type: -1, done: true, err: -1}`.

/// One operation of a `multi` (opcode 14) or `multiRead` (opcode 22) request.
///
/// Notable behaviours: a multi mixes only write ops (create… / delete / setData / check), a multiRead
/// only read ops (getChildren / getData); the server rejects a mix. The create kinds share
/// ``CreateRequest`` and differ only in the op type, which also decides the result kind.
public enum MultiOperation: Hashable, Sendable {
    /// Answers ``MultiResult/create(_:)``.
    case create(CreateRequest)
    /// Answers ``MultiResult/create2(_:opCode:)`` on 3.8.2+ servers (ZOOKEEPER-4026).
    case create2(CreateRequest)
    /// Answers ``MultiResult/create2(_:opCode:)``.
    case createContainer(CreateRequest)
    /// Answers ``MultiResult/create2(_:opCode:)``.
    case createTTL(CreateTTLRequest)
    case delete(DeleteRequest)
    case setData(SetDataRequest)
    case check(CheckVersionRequest)
    /// multiRead only.
    case getChildren(GetChildrenRequest)
    /// multiRead only.
    case getData(GetDataRequest)

    /// The op type written in this op's ``MultiHeader``.
    public var opCode: OpCode {
        switch self {
        case .create: return .create
        case .create2: return .create2
        case .createContainer: return .createContainer
        case .createTTL: return .createTTL
        case .delete: return .delete
        case .setData: return .setData
        case .check: return .check
        case .getChildren: return .getChildren
        case .getData: return .getData
        }
    }

    /// The path the op acts on.
    public var path: String {
        switch self {
        case let .create(request), let .create2(request), let .createContainer(request): return request.path
        case let .createTTL(request): return request.path
        case let .delete(request): return request.path
        case let .setData(request): return request.path
        case let .check(request): return request.path
        case let .getChildren(request): return request.path
        case let .getData(request): return request.path
        }
    }

    /// Writes the op's record (without its header).
    func encodeRecord(to writer: inout JuteWriter) {
        switch self {
        case let .create(request), let .create2(request), let .createContainer(request): writer.write(request)
        case let .createTTL(request): writer.write(request)
        case let .delete(request): writer.write(request)
        case let .setData(request): writer.write(request)
        case let .check(request): writer.write(request)
        case let .getChildren(request): writer.write(request)
        case let .getData(request): writer.write(request)
        }
    }

    /// Reads the record that follows a header of op type `type`.
    static func decodeRecord(type: Int32, from reader: inout JuteReader) throws(JuteDecodingError) -> MultiOperation {
        switch OpCode(rawValue: type) {
        case .create: return .create(try reader.read())
        case .create2: return .create2(try reader.read())
        case .createContainer: return .createContainer(try reader.read())
        case .createTTL: return .createTTL(try reader.read())
        case .delete: return .delete(try reader.read())
        case .setData: return .setData(try reader.read())
        case .check: return .check(try reader.read())
        case .getChildren: return .getChildren(try reader.read())
        case .getData: return .getData(try reader.read())
        default: throw .invalidValue(field: "MultiHeader.type", value: Int64(type))
        }
    }
}

/// The body of a `multi` or `multiRead` request (`MultiOperationRecord`).
///
/// Wire form: per op `MultiHeader{type: op, done: false, err: -1}` + the op's record, then
/// `MultiHeader{type: -1, done: true, err: -1}`.
public struct MultiOperationRecord: Hashable, Sendable {
    public var ops: [MultiOperation]
    public init(ops: [MultiOperation]) {
        self.ops = ops
    }
}

extension MultiOperationRecord: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        for op in ops {
            writer.write(MultiHeader(type: op.opCode.rawValue, done: false, err: -1))
            op.encodeRecord(to: &writer)
        }
        writer.write(MultiHeader.multiEnd)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        var ops: [MultiOperation] = []
        // Every iteration consumes at least a 9-byte header, so the loop ends with the input.
        while true {
            let header = try reader.read(MultiHeader.self)
            if header.done { break }
            ops.append(try MultiOperation.decodeRecord(type: header.type, from: &reader))
        }
        self.ops = ops
    }
}

/// One result of a `multi` or `multiRead` reply.
///
/// Notable behaviours: a failed multi is still a successful RPC. Ops before the failing one answer
/// `.error(.ok)`, the failing one its code, later ones `.error(.runtimeInconsistency)`. Servers before
/// 3.8.2 answer a create2 op with `.create` (ZOOKEEPER-4026).
public enum MultiResult: Hashable, Sendable {
    /// Header type `create`.
    case create(CreateResponse)
    /// Header type `opCode`: Apache always writes `create2` for create2, createTTL and createContainer
    /// ops; `createTTL` and `createContainer` are accepted too when decoding.
    case create2(Create2Response, opCode: OpCode)
    case delete
    case check
    case setData(SetDataResponse)
    case getChildren(GetChildrenResponse)
    case getData(GetDataResponse)
    /// Header type -1 with header `err` = the code, followed by ``ErrorResponse``.
    case error(ZooKeeperErrorCode)

    /// The op type written in this result's ``MultiHeader``.
    public var opCode: OpCode {
        switch self {
        case .create: return .create
        case let .create2(_, opCode): return opCode
        case .delete: return .delete
        case .check: return .check
        case .setData: return .setData
        case .getChildren: return .getChildren
        case .getData: return .getData
        case .error: return .error
        }
    }
}

/// The body of a `multi` or `multiRead` reply (`MultiResponse`).
///
/// Wire form (matching `MultiResponse.serialize` byte for byte): per result
/// `MultiHeader{type, done: false, err}` + its body, where `err` is the error code for error results
/// and 0 otherwise; delete and check have no body; then `MultiHeader{type: -1, done: true, err: -1}`.
public struct MultiResponse: Hashable, Sendable {
    public var results: [MultiResult]
    public init(results: [MultiResult]) {
        self.results = results
    }
}

extension MultiResponse: JuteCodable {
    public func encode(to writer: inout JuteWriter) {
        for result in results {
            var err: Int32 = 0
            if case let .error(code) = result { err = code.rawValue }
            writer.write(MultiHeader(type: result.opCode.rawValue, done: false, err: err))
            switch result {
            case let .create(response): writer.write(response)
            case let .create2(response, _): writer.write(response)
            case .delete, .check: break
            case let .setData(response): writer.write(response)
            case let .getChildren(response): writer.write(response)
            case let .getData(response): writer.write(response)
            case let .error(code): writer.write(ErrorResponse(err: code.rawValue))
            }
        }
        writer.write(MultiHeader.multiEnd)
    }
    public init(from reader: inout JuteReader) throws(JuteDecodingError) {
        var results: [MultiResult] = []
        // Every iteration consumes at least a 9-byte header, so the loop ends with the input.
        while true {
            let header = try reader.read(MultiHeader.self)
            if header.done { break }
            let type = OpCode(rawValue: header.type)
            switch type {
            case .create: results.append(.create(try reader.read()))
            case .create2, .createTTL, .createContainer: results.append(.create2(try reader.read(), opCode: type))
            case .delete: results.append(.delete)
            case .check: results.append(.check)
            case .setData: results.append(.setData(try reader.read()))
            case .getChildren: results.append(.getChildren(try reader.read()))
            case .getData: results.append(.getData(try reader.read()))
            case .error:
                // Like Java, the code comes from the body, not the header.
                let body = try reader.read(ErrorResponse.self)
                results.append(.error(ZooKeeperErrorCode(rawValue: body.err)))
            default: throw .invalidValue(field: "MultiHeader.type", value: Int64(header.type))
            }
        }
        self.results = results
    }
}

extension MultiHeader {
    /// The header that ends a multi request or response: `{type: -1, done: true, err: -1}`.
    public static let multiEnd = MultiHeader(type: -1, done: true, err: -1)
}
