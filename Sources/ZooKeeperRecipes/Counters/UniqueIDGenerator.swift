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
/// - The sequence is ZooKeeper's signed 32-bit counter: IDs run from 0 to 2,147,483,646 on one path.
///   Past that Apache hands out `2147483647` again (or `-2147483648` under concurrent creates), which
///   would repeat IDs, so ``next()`` throws ``UniqueIDError/sequenceExhausted(path:)`` instead: use a
///   new path (e.g. per day) for higher volumes.
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
                guard let sequence = Self.sequence(of: createdNode.name) else {
                    throw ZooKeeperError(.marshallingError, path: created, message: "no sequence suffix")
                }
                // 2147483647 repeats once the counter is exhausted, and negatives are wrapped: refuse both.
                guard SequenceNumbers.isUsable(sequence) else { throw UniqueIDError.sequenceExhausted(path: path.string) }
                return Int64(sequence)
            } catch let error as ZooKeeperError where error.code == .noNode && !createdPath {
                createdPath = true
                try await RecipeSupport.ensurePath(client, path, policy: retryPolicy)
            }
        }
    }

    /// The sequence number in a sequential node's name: the signed number after `id-`.
    static func sequence(of name: String) -> Int32? {
        guard name.hasPrefix(nodePrefix) else { return nil }
        return SequenceNumbers.parse(name.dropFirst(nodePrefix.count))
    }
}

/// Why ``UniqueIDGenerator/next()`` failed (besides ``ZooKeeperError`` and `CancellationError`).
public enum UniqueIDError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `path` has handed out every ID ZooKeeper's signed 32-bit sequence allows (0 … 2,147,483,646);
    /// any further one could repeat an earlier ID. Use a new path.
    case sequenceExhausted(path: String)

    public var description: String {
        switch self {
        case .sequenceExhausted(let path):
            return "\(path) has used up ZooKeeper's 32-bit sequence numbers: a further ID could repeat one; use a new path"
        }
    }
}
