import Foundation
import ZooKeeperClient

/// Curator's protected mode (`withProtection()`, `imps/ProtectedUtils.java`): a node named
/// `_c_<uuid>-<name>` whose creation can be recognised again after its reply was lost.
///
/// Notable behaviours:
/// - The prefix is `_c_` + a lowercase 36-character UUID + `-` (40 characters), exactly Curator's, so
///   Curator, go-zookeeper and kezhuw's Rust client see our nodes as theirs.
/// - On a retryable failure (the create may or may not have happened) it lists the parent and adopts
///   the child that starts with the prefix instead of creating a second node (Netflix/curator#3,
///   CURATOR-45: the "ghost node" that blocks a lock forever).
/// - An adopted ephemeral node counts as ours only if its `ephemeralOwner` is our current session
///   (CURATOR-604/696); one of an older session is deleted and a new node created.
/// - Missing parents are created as CONTAINER nodes (Curator's `creatingParentContainersIfNeeded`), so
///   lock directories do not pile up (kazoo#329); a parent that exists already is fine.
struct ProtectedCreate: Sendable {
    static let prefixMarker = "_c_"
    static let prefixLength = 40

    let client: ZooKeeperClient
    let parent: ZNodePath
    let name: String
    /// `_c_<uuid>-`
    let prefix: String

    init(client: ZooKeeperClient, parent: ZNodePath, name: String, uuid: UUID = UUID()) {
        self.client = client
        self.parent = parent
        self.name = name
        prefix = Self.prefixMarker + uuid.uuidString.lowercased() + "-"
    }

    /// The created (or adopted) node.
    struct Created: Sendable, Hashable {
        /// The node.
        var path: ZNodePath
        /// The node's creation zxid: a fencing token.
        var czxid: Int64
        /// The session that owns the node (0 for a persistent node).
        var ephemeralOwner: Int64

        /// The node's name (its last path component).
        var name: String { path.name }
    }

    /// Creates the node (adopting one created by a lost attempt).
    /// - Parameter mayExist: an earlier attempt may have created it: look for it first.
    func create(
        data: [UInt8], mode: CreateMode, ttl: Duration? = nil, policy: RetryPolicy, mayExist: Bool = false
    ) async throws -> Created {
        var mayExist = mayExist
        return try await retrying(policy, client) {
            do {
                if mayExist, let found = try await findOwn() { return found }
                return try await createOnce(data: data, mode: mode, ttl: ttl, policy: policy)
            } catch let error as ZooKeeperError where error.isRecipeRetryable {
                mayExist = true  // the create may have happened: the retry looks for it first
                throw error
            }
        }
    }

    /// Creates the node and lists `parent` in one round trip: the two requests go back to back and
    /// ZooKeeper runs a session's requests in order, so the listing already holds the new node. This
    /// is how an uncontended lock is acquired in one round trip (Curator needs two).
    ///
    /// - Returns: the node, and the parent's children when the listing succeeded (`nil` otherwise,
    ///   e.g. when the parent had to be created first or the connection dropped).
    func createListingParent(data: [UInt8], mode: CreateMode, policy: RetryPolicy) async throws -> (Created, [String]?) {
        let results = try await client.pipeline([.create(try nodePath(mode), data: data, mode: mode), .getChildren(parent)])
        switch results.first {
        case .success(.created(let path, let stat)):
            var children: [String]?
            if case .success(.children(let names)) = results.last { children = names }
            return (Created(path: try ZNodePath(path), czxid: stat.czxid, ephemeralOwner: stat.ephemeralOwner), children)
        case .failure(let error) where error.code == .noNode:
            // No parent yet: the regular path creates it (as containers) and retries.
            return (try await create(data: data, mode: mode, policy: policy), nil)
        case .failure(let error) where error.isRecipeRetryable:
            // The create may have happened before the connection dropped: adopt it or create anew.
            return (try await create(data: data, mode: mode, policy: policy, mayExist: true), nil)
        case .failure(let error):
            throw error
        case .success, nil:
            throw ZooKeeperError(.marshallingError, path: parent.string, message: "unexpected pipelined create result")
        }
    }

    /// Deletes every child of `parent` carrying our prefix: cleanup after a failed or cancelled create
    /// whose outcome is unknown. Runs in the background until done or the session is gone; the caller
    /// waits as ``GuaranteedDelete/run(client:path:waitUntil:)`` describes.
    func deleteAllOwn(waitUntil bound: ContinuousClock.Instant? = nil) async {
        let client = client, parent = parent, prefix = prefix
        await GuaranteedDelete.inBackground(client: client, waitUntil: bound, what: "\(parent)/\(prefix)*") {
            let children: [String]
            do {
                children = try await retrying(.forever, client) {
                    // sync first: after a move to another server, list what the leader has (our create
                    // may have been applied on a server this one has not caught up with yet).
                    _ = try await client.sync(parent)
                    return try await client.getChildren(parent)
                }
            } catch let error as ZooKeeperError where error.code == .noNode || error.isSessionTerminal || error.isRecipeRetryable {
                return  // no parent: nothing to delete; the session is over; or the client is lost
            }
            for child in children where child.hasPrefix(prefix) {
                try await GuaranteedDelete.deleteRetrying(client: client, path: try parent.appending(child))
            }
        }
    }

    /// `parent/_c_<uuid>-name` (a sequential prefix for sequential modes).
    private func nodePath(_ mode: CreateMode) throws -> ZNodePath {
        try ZNodePath(parent.string == "/" ? "/" + prefix + name : parent.string + "/" + prefix + name,
                      sequentialPrefix: mode.isSequential)
    }

    private func createOnce(data: [UInt8], mode: CreateMode, ttl: Duration?, policy: RetryPolicy) async throws -> Created {
        let path = try nodePath(mode)
        var parentsCreated = 0
        while true {
            do {
                let (created, stat) = try await client.createReturningStat(path, data: data, mode: mode, ttl: ttl)
                return Created(path: try ZNodePath(created), czxid: stat.czxid, ephemeralOwner: stat.ephemeralOwner)
            } catch let error as ZooKeeperError where error.code == .noNode && parentsCreated < 5 {
                // The parent is missing (or was a container the server just removed): make it.
                parentsCreated += 1
                try await RecipeSupport.ensurePath(client, parent, mode: .container, policy: policy)
            }
        }
    }

    /// Finds the node a lost create made, if any.
    ///
    /// `sync` first: the lost reply's server may have gone, and the server we moved to may not have applied
    /// our create yet (its commit can trail our reconnection). Listing without the sync then misses the node,
    /// a second one is created, and the first — owned by our live session, lower in sequence — blocks the
    /// lock forever. Found by zk-matrix on a Shepherd ensemble (locks × leader-killed); Curator's
    /// `findProtectedNodeInForeground` lists without a sync and has the same window on Apache ensembles.
    private func findOwn() async throws -> Created? {
        let children: [String]
        do {
            _ = try await client.sync(parent)
            children = try await client.getChildren(parent)
        } catch let error as ZooKeeperError where error.code == .noNode {
            return nil
        }
        guard let child = children.first(where: { $0.hasPrefix(prefix) }) else {
            client.configuration.logHandler.log(.debug, "\(parent)/\(prefix)*: no node of a lost create")
            return nil
        }
        client.configuration.logHandler.log(.debug, "\(parent)/\(child): found after a lost create")
        let path = try parent.appending(child)
        guard let stat = try await client.exists(path) else { return nil }
        if stat.ephemeralOwner != 0, stat.ephemeralOwner != client.session?.id {
            // Created by an earlier session of ours: it is not ours any more (CURATOR-696).
            await GuaranteedDelete.run(client: client, path: path)
            return nil
        }
        return Created(path: path, czxid: stat.czxid, ephemeralOwner: stat.ephemeralOwner)
    }

}
