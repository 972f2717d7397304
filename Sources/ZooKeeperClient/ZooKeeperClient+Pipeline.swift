import ZooKeeperProtocol

/// One request of a ``ZooKeeperClient/pipeline(_:)``.
public enum PipelinedOperation: Sendable, Hashable {
    /// `create2`: answers the created path and its `Stat`.
    case create(ZNodePath, data: [UInt8] = [], acl: [ACL] = .openACLUnsafe, mode: CreateMode = .persistent)
    /// `version` nil deletes whatever the version.
    case delete(ZNodePath, version: Int32? = nil)
    /// `version` nil sets whatever the version.
    case setData(ZNodePath, data: [UInt8], version: Int32? = nil)
    case exists(ZNodePath)
    case getData(ZNodePath)
    case getChildren(ZNodePath)
}

/// The successful answer to one ``PipelinedOperation``.
public enum PipelinedResult: Sendable, Hashable {
    case created(path: String, stat: Stat)
    case deleted
    /// `setData`'s new `Stat`, or `exists`' `Stat` (`nil`: no such node).
    case stat(Stat?)
    case data([UInt8], Stat)
    case children([String])
}

extension ZooKeeperClient {
    /// Sends `operations` back to back, in this order, before waiting for any reply, and returns
    /// each one's outcome.
    ///
    /// ZooKeeper runs a session's requests in the order they were sent, so a later operation sees
    /// the effects of the earlier ones: `[.create(lock), .getChildren(dir)]` lists the new node,
    /// in one round trip instead of two. Unlike ``multi(_:)`` the operations are **not atomic**:
    /// each succeeds or fails on its own.
    ///
    /// - Returns: one result per operation, in order; a failed operation's ``ZooKeeperError`` is
    ///   its result (a connection loss fails every operation still unanswered).
    /// - Throws: ``ZooKeeperError`` `.badArguments`/`.invalidACL` for invalid arguments (then nothing
    ///   is sent); `CancellationError` (requests already sent still run on the server).
    public func pipeline(_ operations: [PipelinedOperation]) async throws -> [Result<PipelinedResult, ZooKeeperError>] {
        let requests = try operations.map(pipelinedRequest)
        let waiters = requests.map { _ in ReplyWaiter() }
        // Enqueued in one go, in order, before the first suspension: nothing of ours goes in between.
        for (request, waiter) in zip(requests, waiters) {
            core.enqueue(opCode: request.opCode, body: request.body, waiter: waiter, watch: nil)
        }
        var results: [Result<PipelinedResult, ZooKeeperError>] = []
        results.reserveCapacity(requests.count)
        for (operation, waiter) in zip(operations, waiters) {
            let reply: RawReply
            do {
                reply = try await Self.awaitReply(waiter)
            } catch let error as ZooKeeperError {
                results.append(.failure(error))
                continue
            }
            do {
                results.append(.success(try pipelinedResult(operation, reply)))
            } catch let error as ZooKeeperError {
                results.append(.failure(error))
            }
        }
        return results
    }

    /// Waits for a request already enqueued (its reply may have arrived before this is called).
    private static func awaitReply(_ waiter: ReplyWaiter) async throws -> RawReply {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in _ = waiter.install(continuation) }
        } onCancel: {
            waiter.resume(.failure(CancellationError()))
        }
    }

    private func pipelinedRequest(_ operation: PipelinedOperation) throws -> (opCode: OpCode, body: [UInt8]) {
        switch operation {
        case let .create(path, data, acl, mode):
            guard !mode.isTTL else {
                throw ZooKeeperError(.badArguments, path: path.string, message: "TTL creates are not pipelined; use createReturningStat")
            }
            let opCode = try Self.createRequest(path, data: data, acl: acl, mode: mode, ttl: nil).opCode
            let record = CreateRequest(path: serverPath(path), data: data, acl: acl, flags: mode.rawValue)
            return (opCode == .createContainer ? .createContainer : .create2, record.juteBytes())
        case let .delete(path, version):
            return (.delete, DeleteRequest(path: serverPath(path), version: version ?? -1).juteBytes())
        case let .setData(path, data, version):
            return (.setData, SetDataRequest(path: serverPath(path), data: data, version: version ?? -1).juteBytes())
        case let .exists(path):
            return (.exists, ExistsRequest(path: serverPath(path), watch: false).juteBytes())
        case let .getData(path):
            return (.getData, GetDataRequest(path: serverPath(path), watch: false).juteBytes())
        case let .getChildren(path):
            return (.getChildren, GetChildrenRequest(path: serverPath(path), watch: false).juteBytes())
        }
    }

    private func pipelinedResult(_ operation: PipelinedOperation, _ reply: RawReply) throws -> PipelinedResult {
        switch operation {
        case let .create(path, _, _, _):
            try check(reply, path: path.string)
            let response = try decode(reply, as: Create2Response.self, path: path.string)
            return .created(path: clientPath(response.path), stat: response.stat)
        case let .delete(path, _):
            try check(reply, path: path.string)
            return .deleted
        case let .setData(path, _, _):
            try check(reply, path: path.string)
            return .stat(try decode(reply, as: SetDataResponse.self, path: path.string).stat)
        case let .exists(path):
            if reply.err == .noNode { return .stat(nil) }
            try check(reply, path: path.string)
            return .stat(try decode(reply, as: ExistsResponse.self, path: path.string).stat)
        case let .getData(path):
            try check(reply, path: path.string)
            let response = try decode(reply, as: GetDataResponse.self, path: path.string)
            return .data(response.data, response.stat)
        case let .getChildren(path):
            try check(reply, path: path.string)
            return .children(try decode(reply, as: GetChildrenResponse.self, path: path.string).children)
        }
    }
}
