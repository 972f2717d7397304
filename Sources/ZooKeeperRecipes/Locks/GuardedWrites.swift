public import ZooKeeperClient

/// Writes that happen only while a lock (or leadership) is still held: one `multi` whose first
/// operation checks that the holder's node still exists (the guard users keep asking Curator for,
/// CURATOR-689, and kazoo#555).
///
/// Why this is sound: the node is ephemeral and ours, and contenders are ordered by sequence numbers
/// that only grow, so while it exists no later contender can hold the lock (or lead); the server
/// applies the check and the writes atomically. A holder whose session has expired, or whose node
/// was deleted, gets ``LockError/leaseLost`` and nothing is written — even if it has not noticed yet.
enum GuardedWrite {
    /// `multi([check(guardNode, any version)] + operations)`; results without the check's.
    ///
    /// - Throws: ``LockError/leaseLost`` when the guard node is gone; otherwise what ``ZooKeeperClient/multi(_:)``
    ///   throws, with ``ZooKeeperError/operationResults`` for `operations` only.
    static func multi(client: ZooKeeperClient, guardNode: ZNodePath, _ operations: [Operation]) async throws -> [OperationResult] {
        let check = Operation.check(guardNode, version: -1)
        do {
            return Array(try await client.multi([check] + operations).dropFirst())
        } catch var error as ZooKeeperError {
            if let results = error.operationResults, let first = results.first {
                if first == .error(.noNode) { throw LockError.leaseLost }
                error.operationResults = Array(results.dropFirst())
            }
            if error.code == .sessionExpired { throw LockError.leaseLost }
            throw error
        }
    }

    /// The same, for callers that still carry the guard node as a
    /// string (LeaderLatch).
    static func multi(client: ZooKeeperClient, guardNode: String, _ operations: [Operation]) async throws -> [OperationResult] {
        try await multi(client: client, guardNode: try ZNodePath(guardNode), operations)
    }
}

extension LockLease {
    /// Applies `operations` atomically, and only if this lease still holds the lock.
    ///
    /// ```swift
    /// try await mutex.withLock { lease in
    ///     try await lease.guardedMulti([.setData("/orders/next", data: next)])
    /// }
    /// ```
    ///
    /// - Returns: one result per operation.
    /// - Throws: ``LockError/leaseLost`` (nothing was written, and the lease is marked lost) when the
    ///   lock node is gone or the session expired; otherwise as ``ZooKeeperClient/multi(_:)``.
    @discardableResult
    public func guardedMulti(_ operations: [Operation]) async throws -> [OperationResult] {
        do {
            return try await GuardedWrite.multi(client: client, guardNode: path, operations)
        } catch LockError.leaseLost {
            finish(.lost)
            throw LockError.leaseLost
        }
    }

    /// `setData` applied only if this lease still holds the lock (see ``guardedMulti(_:)``).
    @discardableResult
    public func guardedSetData(_ path: ZNodePath, data: [UInt8], version: Int32? = nil) async throws -> Stat {
        let results = try await guardedMulti([.setData(path, data: data, version: version)])
        guard case .setData(let stat)? = results.first else {
            throw ZooKeeperError(.marshallingError, path: path.string, message: "unexpected multi result \(results)")
        }
        return stat
    }
}
