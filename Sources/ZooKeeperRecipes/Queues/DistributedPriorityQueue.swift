public import ZooKeeperClient

/// A queue whose items are taken lowest priority value first, FIFO within a priority — Curator's
/// `DistributedPriorityQueue` naming on ``DistributedQueue``'s algorithm.
///
/// ```swift
/// let queue = DistributedPriorityQueue<String>(client: zk, path: "/queues/jobs")
/// try await queue.put("urgent", priority: -10)
/// try await queue.put("later", priority: 5)
/// let first = try await queue.take()   // "urgent"
/// ```
///
/// **Layout**: `<path>/queue-<sign><%08X priority><seq>`: `queue-`, then `0` for a negative priority or
/// `1` otherwise, then the priority's 32-bit two's complement as 8 upper-case hex digits, then the
/// sequence (Curator's `DistributedPriorityQueue.priorityToString`). Names sort as (priority, sequence).
///
/// Notable behaviours: all of ``DistributedQueue``'s (herd on put, at-most-once under a lost delete
/// reply). Plain `queue-<seq>` items in the same directory sort *before* every priority item, even
/// `Int32.min`: their names continue with the sequence's leading `0`s, which sort before `0FFFFFFFF…`
/// and `1…` (while the directory's sequence is below 1,000,000,000).
public struct DistributedPriorityQueue<Item: Sendable>: Sendable {
    public let queue: DistributedQueue<Item>

    /// See ``DistributedQueue/init(client:path:serializer:retryPolicy:errorMode:)``; a requeued item keeps its
    /// name prefix (its priority).
    public init(
        client: ZooKeeperClient, path: ZNodePath, serializer: QueueSerializer<Item>, retryPolicy: RetryPolicy = .standard,
        errorMode: QueueErrorMode = .requeue
    ) {
        queue = DistributedQueue(client: client, path: path, serializer: serializer, retryPolicy: retryPolicy, errorMode: errorMode)
    }

    /// Curator's priority text: `1`/`0` sign marker then `%08X` of the 32-bit pattern.
    public static func priorityPrefix(_ priority: Int32) -> String {
        let hex = String(UInt32(bitPattern: priority), radix: 16, uppercase: true)
        return (priority >= 0 ? "1" : "0") + String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// Adds `item` with `priority` (lower values are taken first). Returns the node path.
    @discardableResult
    public func put(_ item: Item, priority: Int32) async throws -> String {
        try await queue.put(item, namePrefix: DistributedQueue<Item>.nodePrefix + Self.priorityPrefix(priority))
    }

    /// See ``DistributedQueue/take(timeout:)``.
    public func take(timeout: Duration? = nil) async throws -> Item { try await queue.take(timeout: timeout) }
    /// See ``DistributedQueue/poll()``.
    public func poll() async throws -> Item? { try await queue.poll() }
    /// See ``DistributedQueue/peek()``.
    public func peek() async throws -> Item? { try await queue.peek() }
}

extension DistributedPriorityQueue where Item: Codable & SendableMetatype {
    public init(client: ZooKeeperClient, path: ZNodePath, retryPolicy: RetryPolicy = .standard, errorMode: QueueErrorMode = .requeue) {
        self.init(client: client, path: path, serializer: .json, retryPolicy: retryPolicy, errorMode: errorMode)
    }
}
