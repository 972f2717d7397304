import Synchronization
import ZooKeeperProtocol

extension ZooKeeperClient {
    /// The node's data and `Stat`, plus a one-shot watch for its next change or deletion.
    ///
    /// Cancelled while in flight (as the other watching reads), it throws `CancellationError` and the
    /// client does not keep the watch; the server may still have armed it (it fires once, unseen).
    public func getDataWatching(_ path: ZNodePath) async throws -> (data: [UInt8], stat: Stat, watch: OneShotWatch) {
        let box = OneShotWatchBox()
        let reply = try await sendWatching(
            .getData, GetDataRequest(path: serverPath(path), watch: true), path: path, kind: .data, box: box)
        try check(reply, path: path.string)
        let response = try decode(reply, as: GetDataResponse.self, path: path.string)
        return (response.data, response.stat, OneShotWatch(box: box))
    }

    /// The node's `Stat` (or `nil`), plus a one-shot watch that fires when it is created, changed or deleted.
    /// The watch is armed even when the node does not exist (a ZooKeeper "exists watch").
    public func existsWatching(_ path: ZNodePath) async throws -> (stat: Stat?, watch: OneShotWatch) {
        let box = OneShotWatchBox()
        let reply = try await sendWatching(
            .exists, ExistsRequest(path: serverPath(path), watch: true), path: path, kind: .exist, box: box)
        if reply.err == .noNode { return (nil, OneShotWatch(box: box)) }
        try check(reply, path: path.string)
        return (try decode(reply, as: ExistsResponse.self, path: path.string).stat, OneShotWatch(box: box))
    }

    /// The node's children and `Stat`, plus a one-shot watch for a change in its children or its deletion.
    public func getChildrenWatching(
        _ path: ZNodePath
    ) async throws -> (children: [String], stat: Stat, watch: OneShotWatch) {
        let box = OneShotWatchBox()
        let reply = try await sendWatching(
            .getChildren2, GetChildren2Request(path: serverPath(path), watch: true), path: path, kind: .child, box: box)
        try check(reply, path: path.string)
        let response = try decode(reply, as: GetChildren2Response.self, path: path.string)
        return (response.children, response.stat, OneShotWatch(box: box))
    }

    /// Sends a read that arms a one-shot watch. If the caller is cancelled while it is in flight, the
    /// box is abandoned: the late reply does not arm it, or it is taken out again (nobody can wait on it,
    /// and it would stay registered until the node changes, re-sent on every reconnect).
    private func sendWatching(
        _ opCode: OpCode, _ record: any JuteEncodable, path: ZNodePath, kind: WatchKind, box: OneShotWatchBox
    ) async throws -> RawReply {
        let server = serverPath(path)
        do {
            return try await send(opCode, record, path: path.string,
                                  watch: WatchRegistration(kind: kind, path: server, box: box, sink: nil))
        } catch let error as CancellationError {
            box.abandon()  // before the removal: a reply matched after it sees the flag
            core.state.withLock { $0.watches.removeOneShot(box, path: server) }
            throw error
        }
    }

    /// Adds a persistent (or persistent-recursive) watch and returns its events (ZooKeeper 3.6+).
    ///
    /// See ``PersistentWatch`` for the semantics. Ending the iteration removes the watch.
    ///
    /// Cancelling the caller while the request is in flight throws `CancellationError` at once; if the
    /// server adds the watch anyway, the client removes it again when the reply arrives.
    public func addWatch(_ path: ZNodePath, mode: AddWatchMode) async throws -> PersistentWatch {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: WatchedEvent.self, throwing: (any Error).self,
                                                                    bufferingPolicy: .unbounded)
        let id = core.nextSinkID()
        let sink = PersistentSink(id: id, continuation: continuation)
        let server = serverPath(path)
        let kind: WatchKind = mode == .persistent ? .persistent : .persistentRecursive
        continuation.onTermination = { [weak core] _ in
            guard let core else { return }
            // From a task, not inline: the runtime may call this under the consumer task's status lock,
            // and the core's lock must never be taken there (see ClientCore's notes).
            Task { await core.dropPersistentSink(id: id, path: server) }
        }
        guard !Task.isCancelled else {
            continuation.finish(throwing: CancellationError())
            throw CancellationError()
        }
        // Enqueued here (the xid is assigned before the first suspension); the reply is observed even
        // if this caller is cancelled meanwhile: it arms the sink, which must then be dropped again
        // (with its server-side watch), or it would live on and be re-added on every reconnect.
        let waiter = ReplyWaiter()
        let reply = AbandonableReply(observing: waiter) { [weak core] _, abandoned in
            guard let core else { return }
            await core.endAddingPersistent(path: server)
            if abandoned { await core.dropPersistentSink(id: id, path: server) }
        }
        // Noted first: a dropped persistent watch on this path is not removed under it (see WatchRegistry).
        core.state.withLock { $0.watches.beginAddingPersistent(server) }
        core.enqueue(opCode: .addWatch, body: AddWatchRequest(path: server, mode: mode.rawValue).juteBytes(),
                     waiter: waiter, watch: WatchRegistration(kind: kind, path: server, box: nil, sink: sink))
        do {
            try check(try await reply.value(), path: path.string)
        } catch {
            continuation.finish(throwing: error)
            throw error
        }
        return PersistentWatch(stream: stream)
    }

    /// Removes watches of `type` on `path`, on the server and locally.
    ///
    /// Removed one-shot watches fire with `dataWatchRemoved` / `childWatchRemoved`; removed persistent
    /// watches finish their sequence.
    /// - Parameter local: remove only the client's own record (works while disconnected).
    /// - Throws: ``ZooKeeperError`` `.noWatcher` if no such watch exists.
    public func removeWatches(_ path: ZNodePath, type: WatcherType, local: Bool = false) async throws {
        let server = serverPath(path)
        let hasLocal = core.state.withLock { $0.watches.hasAnyWatch(on: server) }
        guard hasLocal else { throw ZooKeeperError(.noWatcher, path: path.string) }
        if !local {
            try await callVoid(.removeWatches, RemoveWatchesRequest(path: server, type: type.rawValue), path: path.string)
        }
        let deliveries = core.state.withLock { $0.watches.remove(path: server, type: type, clientPath: path.string) }
        for delivery in deliveries { delivery.perform() }
    }

    /// Asks the server whether a watch of `type` is set on `path` for this session.
    /// - Throws: ``ZooKeeperError`` `.noWatcher` if none.
    public func checkWatches(_ path: ZNodePath, type: WatcherType) async throws {
        try await callVoid(.checkWatches, CheckWatchesRequest(path: serverPath(path), type: type.rawValue),
                           path: path.string)
    }
}
