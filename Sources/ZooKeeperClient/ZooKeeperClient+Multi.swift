import ZooKeeperProtocol

/// One write in a ``ZooKeeperClient/multi(_:)`` transaction.
public enum Operation: Sendable, Hashable {
    case create(ZNodePath, data: [UInt8] = [], acl: [ACL] = .openACLUnsafe, mode: CreateMode = .persistent,
                ttl: Duration? = nil)
    /// `version` nil deletes whatever the version.
    case delete(ZNodePath, version: Int32? = nil)
    /// `version` nil sets whatever the version.
    case setData(ZNodePath, data: [UInt8], version: Int32? = nil)
    /// Fails the transaction unless the node's `dataVersion` is `version`.
    case check(ZNodePath, version: Int32)

    var path: ZNodePath {
        switch self {
        case let .create(path, _, _, _, _), let .delete(path, _), let .setData(path, _, _), let .check(path, _):
            return path
        }
    }
}

/// The result of one operation of a transaction.
public enum OperationResult: Sendable, Hashable {
    /// The created path; `stat` is nil on servers older than 3.8.2 (ZOOKEEPER-4026).
    case create(path: String, stat: Stat?)
    case delete
    case setData(Stat)
    case check
    /// This operation failed (or was rolled back: `.runtimeInconsistency` after the failing one,
    /// `.ok` before it).
    case error(ZooKeeperError.Code)
}

/// One read in a ``ZooKeeperClient/multiRead(_:)``.
public enum ReadOperation: Sendable, Hashable {
    case getData(ZNodePath)
    case getChildren(ZNodePath)
}

/// The result of one read of a ``ZooKeeperClient/multiRead(_:)``.
public enum ReadResult: Sendable, Hashable {
    case data([UInt8], Stat)
    case children([String])
    case error(ZooKeeperError.Code)
}

extension ZooKeeperClient {
    /// Applies all operations atomically, or none.
    ///
    /// - Returns: one result per operation.
    /// - Throws: ``ZooKeeperError`` with the code and path of the first failing operation, and every
    ///   per-operation result in ``ZooKeeperError/operationResults`` (ZooKeeper answers a failed multi
    ///   with a successful reply holding per-op errors).
    public func multi(_ operations: [Operation]) async throws -> [OperationResult] {
        guard !operations.isEmpty else { return [] }
        var ops: [MultiOperation] = []
        ops.reserveCapacity(operations.count)
        for operation in operations {
            switch operation {
            case let .create(path, data, acl, mode, ttl):
                let request = try Self.createRequest(path, data: data, acl: acl, mode: mode, ttl: ttl)
                let server = serverPath(path)
                switch request.opCode {
                case .createTTL:
                    ops.append(.createTTL(CreateTTLRequest(path: server, data: data, acl: acl, flags: mode.rawValue,
                                                           ttl: request.ttl)))
                case .createContainer:
                    ops.append(.createContainer(CreateRequest(path: server, data: data, acl: acl, flags: mode.rawValue)))
                default:
                    ops.append(.create2(CreateRequest(path: server, data: data, acl: acl, flags: mode.rawValue)))
                }
            case let .delete(path, version):
                ops.append(.delete(DeleteRequest(path: serverPath(path), version: version ?? -1)))
            case let .setData(path, data, version):
                ops.append(.setData(SetDataRequest(path: serverPath(path), data: data, version: version ?? -1)))
            case let .check(path, version):
                ops.append(.check(CheckVersionRequest(path: serverPath(path), version: version)))
            }
        }
        let response = try await call(.multi, MultiOperationRecord(ops: ops), path: nil, as: MultiResponse.self)
        let results = response.results.map { result -> OperationResult in
            switch result {
            case let .create(created): return .create(path: clientPath(created.path), stat: nil)
            case let .create2(created, _): return .create(path: clientPath(created.path), stat: created.stat)
            case .delete: return .delete
            case let .setData(set): return .setData(set.stat)
            case .check: return .check
            case let .error(code): return .error(code)
            case .getData, .getChildren: return .error(.marshallingError)
            }
        }
        guard results.count == operations.count else {
            throw ZooKeeperError(.marshallingError, message: "multi answered \(results.count) results for \(operations.count) operations")
        }
        if let failing = results.indices.first(where: {
            if case let .error(code) = results[$0], code != .ok, code != .runtimeInconsistency { return true }
            return false
        }) ?? results.indices.first(where: { if case .error = results[$0] { return true }; return false }) {
            guard case let .error(code) = results[failing] else { return results }
            var error = ZooKeeperError(code, path: operations[failing].path.string,
                                       message: "transaction failed at operation \(failing)")
            error.operationResults = results
            throw error
        }
        return results
    }

    /// Runs reads together in one round trip (ZooKeeper 3.6+). Not atomic: each read has its own result.
    public func multiRead(_ operations: [ReadOperation]) async throws -> [ReadResult] {
        guard !operations.isEmpty else { return [] }
        let ops: [MultiOperation] = operations.map { operation in
            switch operation {
            case let .getData(path): return .getData(GetDataRequest(path: serverPath(path), watch: false))
            case let .getChildren(path): return .getChildren(GetChildrenRequest(path: serverPath(path), watch: false))
            }
        }
        let response = try await call(.multiRead, MultiOperationRecord(ops: ops), path: nil, as: MultiResponse.self)
        return response.results.map { result in
            switch result {
            case let .getData(data): return .data(data.data, data.stat)
            case let .getChildren(children): return .children(children.children)
            case let .error(code): return .error(code)
            default: return .error(.marshallingError)
            }
        }
    }
}
