import ZooKeeperProtocol

extension ZooKeeperClient {
    /// Creates a node and returns its actual path (with the sequence suffix for sequential modes).
    ///
    /// - Parameters:
    ///   - path: where to create it; for sequential modes the server appends a 10-digit counter
    ///     (the parent's `cversion`, signed, `%010d`).
    ///   - data: the node's data (at most jute.maxbuffer bytes).
    ///   - acl: must not be empty.
    ///   - mode: persistent, ephemeral, sequential, container or TTL.
    ///   - ttl: required for TTL modes, forbidden otherwise (needs `extendedTypesEnabled` on the server).
    /// - Throws: ``ZooKeeperError``: `.nodeExists`, `.noNode` (no parent), `.noChildrenForEphemerals`,
    ///   `.invalidACL`, `.noAuth`, `.unimplemented` (TTL disabled), `.badArguments`.
    @discardableResult
    public func create(
        _ path: ZNodePath, data: [UInt8] = [], acl: [ACL] = .openACLUnsafe, mode: CreateMode = .persistent,
        ttl: Duration? = nil
    ) async throws -> String {
        try await createNode(path, data: data, acl: acl, mode: mode, ttl: ttl, wantStat: false).path
    }

    /// Creates a node and returns its path and `Stat` (`create2`).
    public func createReturningStat(
        _ path: ZNodePath, data: [UInt8] = [], acl: [ACL] = .openACLUnsafe, mode: CreateMode = .persistent,
        ttl: Duration? = nil
    ) async throws -> (path: String, stat: Stat) {
        let result = try await createNode(path, data: data, acl: acl, mode: mode, ttl: ttl, wantStat: true)
        return (result.path, result.stat ?? Stat())
    }

    private func createNode(
        _ path: ZNodePath, data: [UInt8], acl: [ACL], mode: CreateMode, ttl: Duration?, wantStat: Bool
    ) async throws -> (path: String, stat: Stat?) {
        let request = try Self.createRequest(path, data: data, acl: acl, mode: mode, ttl: ttl)
        let server = core.chroot.serverPath(path.string)
        switch request.opCode {
        case .createTTL:
            let record = CreateTTLRequest(path: server, data: data, acl: acl, flags: mode.rawValue, ttl: request.ttl)
            let response = try await call(.createTTL, record, path: path.string, as: Create2Response.self)
            return (clientPath(response.path), response.stat)
        case .create where !wantStat:
            let record = CreateRequest(path: server, data: data, acl: acl, flags: mode.rawValue)
            let response = try await call(.create, record, path: path.string, as: CreateResponse.self)
            return (clientPath(response.path), nil)
        default:
            // create2 and createContainer both answer Create2Response.
            let record = CreateRequest(path: server, data: data, acl: acl, flags: mode.rawValue)
            let opCode: OpCode = request.opCode == .createContainer ? .createContainer : .create2
            let response = try await call(opCode, record, path: path.string, as: Create2Response.self)
            return (clientPath(response.path), response.stat)
        }
    }

    /// Checks a create's arguments as the Java client does, and picks the opcode.
    static func createRequest(
        _ path: ZNodePath, data: [UInt8], acl: [ACL], mode: CreateMode, ttl: Duration?
    ) throws -> (opCode: OpCode, ttl: Int64) {
        if !mode.isSequential && path.string.count > 1 && path.string.hasSuffix("/") {
            throw ZooKeeperError(.badArguments, path: path.string, message: "path must not end with / unless sequential")
        }
        guard !acl.isEmpty else { throw ZooKeeperError(.invalidACL, path: path.string, message: "the ACL is empty") }
        if mode.isTTL {
            guard let ttl else { throw ZooKeeperError(.badArguments, path: path.string, message: "a TTL mode needs a ttl") }
            let milliseconds = ttl.components.seconds * 1000 + ttl.components.attoseconds / 1_000_000_000_000_000
            guard milliseconds > 0, milliseconds <= EphemeralOwner.maxTTL else {
                throw ZooKeeperError(.badArguments, path: path.string, message: "ttl must be in 1...\(EphemeralOwner.maxTTL) ms")
            }
            return (.createTTL, milliseconds)
        }
        if ttl != nil { throw ZooKeeperError(.badArguments, path: path.string, message: "ttl is only for TTL modes") }
        return (mode == .container ? .createContainer : .create, 0)
    }

    /// Deletes a node.
    /// - Parameter version: the expected `dataVersion`; `nil` deletes whatever the version.
    /// - Throws: ``ZooKeeperError``: `.noNode`, `.badVersion`, `.notEmpty`, `.noAuth`.
    public func delete(_ path: ZNodePath, version: Int32? = nil) async throws {
        let record = DeleteRequest(path: serverPath(path), version: version ?? -1)
        try await callVoid(.delete, record, path: path.string)
    }

    /// The node's `Stat`, or `nil` if it does not exist.
    public func exists(_ path: ZNodePath) async throws -> Stat? {
        let reply = try await send(.exists, ExistsRequest(path: serverPath(path), watch: false), path: path.string)
        if reply.err == .noNode { return nil }
        try check(reply, path: path.string)
        return try decode(reply, as: ExistsResponse.self, path: path.string).stat
    }

    /// The node's data and `Stat`.
    /// - Throws: ``ZooKeeperError`` `.noNode`, `.noAuth`.
    public func getData(_ path: ZNodePath) async throws -> (data: [UInt8], stat: Stat) {
        let response = try await call(.getData, GetDataRequest(path: serverPath(path), watch: false),
                                      path: path.string, as: GetDataResponse.self)
        return (response.data, response.stat)
    }

    /// Replaces the node's data.
    /// - Parameter version: the expected `dataVersion`; `nil` sets whatever the version.
    /// - Returns: the new `Stat`.
    /// - Throws: ``ZooKeeperError`` `.noNode`, `.badVersion`, `.noAuth`.
    @discardableResult
    public func setData(_ path: ZNodePath, data: [UInt8], version: Int32? = nil) async throws -> Stat {
        let record = SetDataRequest(path: serverPath(path), data: data, version: version ?? -1)
        return try await call(.setData, record, path: path.string, as: SetDataResponse.self).stat
    }

    /// The node's ACL and `Stat`. Without ADMIN permission, digest ids come back masked (`user:x`).
    public func getACL(_ path: ZNodePath) async throws -> (acl: [ACL], stat: Stat) {
        let response = try await call(.getACL, GetACLRequest(path: serverPath(path)), path: path.string,
                                      as: GetACLResponse.self)
        return (response.acl, response.stat)
    }

    /// Replaces the node's ACL.
    /// - Parameter version: the expected `aversion`; `nil` for any.
    @discardableResult
    public func setACL(_ path: ZNodePath, acl: [ACL], version: Int32? = nil) async throws -> Stat {
        guard !acl.isEmpty else { throw ZooKeeperError(.invalidACL, path: path.string, message: "the ACL is empty") }
        let record = SetACLRequest(path: serverPath(path), acl: acl, version: version ?? -1)
        return try await call(.setACL, record, path: path.string, as: SetACLResponse.self).stat
    }

    /// The names of the node's children, in the server's (unspecified) order.
    public func getChildren(_ path: ZNodePath) async throws -> [String] {
        try await call(.getChildren, GetChildrenRequest(path: serverPath(path), watch: false), path: path.string,
                       as: GetChildrenResponse.self).children
    }

    /// The names of the node's children and the node's `Stat` (`getChildren2`).
    public func getChildrenWithStat(_ path: ZNodePath) async throws -> (children: [String], stat: Stat) {
        let response = try await call(.getChildren2, GetChildren2Request(path: serverPath(path), watch: false),
                                      path: path.string, as: GetChildren2Response.self)
        return (response.children, response.stat)
    }

    /// Waits until the server this client is connected to has caught up with the leader.
    /// A read after `sync` sees every write committed before the `sync`.
    @discardableResult
    public func sync(_ path: ZNodePath) async throws -> String {
        clientPath(try await call(.sync, SyncRequest(path: serverPath(path)), path: path.string,
                                  as: SyncResponse.self).path)
    }

    /// Checks the node's `dataVersion` without changing anything: throws `.badVersion` (or `.noNode`,
    /// `.noAuth` without READ) unless it is `version`.
    ///
    /// Sent as a one-operation ``multi(_:)``: servers refuse a check on its own (Apache 3.9 and ours
    /// answer `.unimplemented` and close the connection; 3.8.0 never answers a passing one and logs a
    /// transaction it cannot replay, ZOOKEEPER-2623).
    public func check(_ path: ZNodePath, version: Int32) async throws {
        _ = try await multi([.check(path, version: version)])
    }

    /// This session's ephemeral nodes whose path starts with `prefix` (a plain string prefix; `/` for all).
    public func getEphemerals(prefix: String = "/") async throws -> [String] {
        let serverPrefix = core.chroot.serverPath(prefix.isEmpty ? "/" : prefix)
        return try await call(.getEphemerals, GetEphemeralsRequest(prefixPath: serverPrefix), path: prefix,
                              as: GetEphemeralsResponse.self).ephemerals.map(clientPath)
    }

    /// The number of all descendants of a node (not just its children).
    public func getAllChildrenNumber(_ path: ZNodePath) async throws -> Int {
        Int(try await call(.getAllChildrenNumber, GetAllChildrenNumberRequest(path: serverPath(path)),
                           path: path.string, as: GetAllChildrenNumberResponse.self).totalNumber)
    }

    /// The identities this session is authenticated as (ZooKeeper 3.7+).
    public func whoAmI() async throws -> [ClientInfo] {
        try await call(.whoAmI, nil, path: nil, as: WhoAmIResponse.self).clientInfo
    }

    /// Adds credentials to the session (and to every future reconnect).
    ///
    /// Notable behaviours: a rejected credential ends the session (`.lost(.authFailed)`); the server
    /// closes the connection, as with the Java client.
    public func addAuth(scheme: String, auth: [UInt8]) async throws {
        let info = AuthInfo(scheme: scheme, auth: auth)
        let waiter = ReplyWaiter()
        _ = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if waiter.install(continuation) { core.enqueueAuth(info, waiter: waiter) }
            }
        } onCancel: {
            waiter.resume(.failure(CancellationError()))
        }
    }

    /// The ensemble's dynamic configuration (`/zookeeper/config`, never under the chroot).
    public func getConfig() async throws -> (data: [UInt8], stat: Stat) {
        let response = try await call(.getData, GetDataRequest(path: "/zookeeper/config", watch: false),
                                      path: "/zookeeper/config", as: GetDataResponse.self)
        return (response.data, response.stat)
    }
}
