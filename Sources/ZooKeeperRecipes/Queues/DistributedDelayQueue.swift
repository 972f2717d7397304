import Foundation
public import ZooKeeperClient

/// A queue whose items become available at a given time — Curator's `DistributedDelayQueue` naming on
/// ``DistributedQueue``'s algorithm.
///
/// ```swift
/// let reminders = DistributedDelayQueue<String>(client: zk, path: "/queues/reminders")
/// try await reminders.put("ping", delay: .seconds(30))
/// let due = try await reminders.take()      // returns once an item is due
/// ```
///
/// **Layout**: `<path>/queue-|<%08X epoch ms>|<seq>` (Curator's `epochToString`: the due time in
/// milliseconds since 1970 as upper-case hex, at least 8 digits, between `|` separators). Today's epochs
/// all have 11 hex digits, so names sort by due time, then by sequence.
///
/// **Algorithm**: like ``DistributedQueue/take(timeout:)``, but the walk stops at the first item not yet
/// due, and the wait ends at that item's due time or at a change of the children, whichever comes first
/// (a timer plus the watch, as Curator's).
///
/// Notable behaviours:
/// - Due times are wall-clock (the producer's clock), so clock skew between machines shifts them.
/// - All of ``DistributedQueue``'s notes apply (receipts, herd on put, duplicate on a retried put).
public struct DistributedDelayQueue<Item: Sendable>: Sendable {
    public let queue: DistributedQueue<Item>

    /// See ``DistributedQueue/init(client:path:serializer:retryPolicy:errorMode:)``; a requeued item keeps its
    /// name prefix (its due time).
    public init(
        client: ZooKeeperClient, path: ZNodePath, serializer: QueueSerializer<Item>, retryPolicy: RetryPolicy = .standard,
        errorMode: QueueErrorMode = .requeue
    ) {
        queue = DistributedQueue(client: client, path: path, serializer: serializer, retryPolicy: retryPolicy, errorMode: errorMode)
    }

    /// Curator's `epochToString`: `|` + `%08X` of the epoch milliseconds + `|`.
    public static func epochText(_ epochMilliseconds: Int64) -> String {
        let hex = String(UInt64(bitPattern: epochMilliseconds), radix: 16, uppercase: true)
        return "|" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex + "|"
    }

    /// The due time in a node name, or `nil` if it has none (a plain item: due at once).
    static func epoch(of name: String) -> Int64? {
        let parts = name.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        return Int64(parts[1], radix: 16)
    }

    static var nowMilliseconds: Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// Adds `item`, to become available at `epochMilliseconds` (milliseconds since 1970).
    @discardableResult
    public func put(_ item: Item, dueAtEpochMilliseconds epochMilliseconds: Int64) async throws -> String {
        try await queue.put(item, namePrefix: DistributedQueue<Item>.nodePrefix + Self.epochText(epochMilliseconds))
    }

    /// Adds `item`, to become available after `delay`.
    @discardableResult
    public func put(_ item: Item, delay: Duration) async throws -> String {
        let (seconds, attoseconds) = delay.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return try await put(item, dueAtEpochMilliseconds: Self.nowMilliseconds + milliseconds)
    }

    /// Removes and returns the first due item, waiting until one is due.
    ///
    /// - Parameter timeout: the longest wait; `nil` waits until an item is due or the task is cancelled.
    /// - Returns: the item.
    /// - Throws: ``QueueError/timedOut`` if `timeout` passed first (nothing was taken); as
    ///   ``DistributedQueue/take(timeout:)`` otherwise.
    public func take(timeout: Duration? = nil) async throws -> Item {
        guard let item = try await takeDue(deadline: RecipeSupport.deadline(after: timeout)) else { throw QueueError.timedOut }
        return item
    }

    /// Removes and returns the first due item, or `nil` if none is due now.
    public func poll() async throws -> Item? {
        try await takeDue(deadline: RecipeSupport.deadline(after: .zero))
    }

    /// The first item due by `deadline`, or `nil` then.
    private func takeDue(deadline: ContinuousClock.Instant?) async throws -> Item? {
        try await queue.take(deadline: deadline) { name in
            guard let epoch = Self.epoch(of: name) else { return nil }
            let remaining = epoch - Self.nowMilliseconds
            return remaining > 0 ? .milliseconds(remaining) : nil
        }
    }
}

extension DistributedDelayQueue where Item: Codable & SendableMetatype {
    public init(client: ZooKeeperClient, path: ZNodePath, retryPolicy: RetryPolicy = .standard, errorMode: QueueErrorMode = .requeue) {
        self.init(client: client, path: path, serializer: .json, retryPolicy: retryPolicy, errorMode: errorMode)
    }
}
