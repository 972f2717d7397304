public import ZooKeeperClient

/// Hands out IDs unique across every process using the same path, increasing in the order they are
/// handed out — the seed notes' "unique order number across many JVMs", from ZooKeeper's sequential nodes.
///
/// ```swift
/// let ids = UniqueIDGenerator(client: zk, path: "/ids/orders")
/// let orderNumber = try await ids.next()   // 0, 1, 2, … across all processes
/// ```
///
/// **Layout**: `<path>` (PERSISTENT) whose children `id-<seq>` exist only for an instant.
///
/// **Algorithm**: create `<path>/id-` EPHEMERAL_SEQUENTIAL; the server's sequence number (the parent's
/// child-version counter, which only grows) is the ID; then delete the node. One write per ID, no
/// contention retries (unlike a compare-and-set counter such as ``DistributedAtomicLong``).
///
/// Guarantees and non-guarantees:
/// - Unique and strictly increasing in the server's total order (two IDs handed out one after the other
///   compare in that order, whichever processes asked).
/// - **Gaps**: a create whose reply is lost and is retried burns a number; so does any other child created
///   under `path`. IDs are not dense.
/// - The sequence is ZooKeeper's signed 32-bit counter: after 2,147,483,647 IDs on one path it wraps
///   (ZooKeeper's limit); use a new path (e.g. per day) for higher volumes.
/// - An ID whose node could not be deleted (connection lost) is still unique; the ephemeral node goes
///   with the session.
public struct UniqueIDGenerator: Sendable {
    public let client: ZooKeeperClient
    public let path: ZNodePath
    public var retryPolicy: RetryPolicy

    public static let nodePrefix = "id-"

    public init(client: ZooKeeperClient, path: ZNodePath, retryPolicy: RetryPolicy = .standard) {
        self.client = client
        self.path = path
        self.retryPolicy = retryPolicy
    }

    /// The next ID.
    public func next() async throws -> Int64 {
        let node = try ZNodePath(path.string + "/" + Self.nodePrefix, sequentialPrefix: true)
        var createdPath = false
        while true {
            do {
                let created = try await retrying(retryPolicy, client) {
                    try await client.create(node, mode: .ephemeralSequential)
                }
                let createdNode = try ZNodePath(created)
                await GuaranteedDelete.run(client: client, path: createdNode)
                guard let id = Self.sequence(of: createdNode.name) else {
                    throw ZooKeeperError(.marshallingError, path: created, message: "no sequence suffix")
                }
                return id
            } catch let error as ZooKeeperError where error.code == .noNode && !createdPath {
                createdPath = true
                try await RecipeSupport.ensurePath(client, path, policy: retryPolicy)
            }
        }
    }

    /// The sequence number in a sequential node's name (its last 10 digits).
    static func sequence(of name: String) -> Int64? {
        let digits = name.suffix(10)
        guard digits.count == 10, digits.allSatisfy(\.isNumber) else { return nil }
        return Int64(digits)
    }
}
