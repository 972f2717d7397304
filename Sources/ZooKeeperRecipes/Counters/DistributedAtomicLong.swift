public import ZooKeeperClient

/// The outcome of a ``DistributedAtomicLong`` operation (Curator's `AtomicValue`).
public struct AtomicValue<Value: Sendable & Hashable>: Sendable, Hashable {
    /// Whether the operation took effect. `false` when the retry policy gave up under contention:
    /// then nothing was written and `postValue` is the value last read.
    public var succeeded: Bool
    /// The value before the operation.
    public var preValue: Value
    /// The value after it.
    public var postValue: Value

    public init(succeeded: Bool, preValue: Value, postValue: Value) {
        self.succeeded = succeeded
        self.preValue = preValue
        self.postValue = postValue
    }
}

/// A 64-bit counter shared through one node, updated by optimistic compare-and-set — Curator's
/// `DistributedAtomicLong` (without the `PromotedToLock` fallback).
///
/// ```swift
/// let counter = DistributedAtomicLong(client: zk, path: "/counters/orders")
/// let result = try await counter.increment()
/// if result.succeeded { print("order number", result.postValue) }
/// ```
///
/// **Layout**: `<path>` (PERSISTENT, parents created) holding the value as 8 big-endian bytes, byte for
/// byte Curator's (empty data reads as 0).
///
/// **Algorithm**: `getData` → compute → `setData(version:)`; a `badVersion` (someone else wrote first)
/// retries under the retry policy's backoff; a missing node is created with the new value (a
/// `nodeExists` race retries too). Reads are retried on connection loss; a *write* whose reply is lost
/// throws the `connectionLoss` ``ZooKeeperError``: it may have landed, and retrying could apply the
/// update twice (Curator's retry loop does; we report the unknown outcome instead).
///
/// Notable behaviours:
/// - **Not guaranteed to succeed**: under heavy contention the policy can give up, and the result says
///   `succeeded == false` (as Curator). Callers that must count loop or use a generous policy.
/// - No connection-state tracking: each call is a self-contained read-modify-write; session expiry throws.
public struct DistributedAtomicLong: Sendable {
    public let client: ZooKeeperClient
    public let path: ZNodePath
    /// Governs both connection-loss retries and the optimistic-update retries.
    public var retryPolicy: RetryPolicy

    public init(client: ZooKeeperClient, path: ZNodePath, retryPolicy: RetryPolicy = .standard) {
        self.client = client
        self.path = path
        self.retryPolicy = retryPolicy
    }

    /// The current value (0 if the node does not exist).
    public func get() async throws -> AtomicValue<Int64> {
        let value = try await read()?.value ?? 0
        return AtomicValue(succeeded: true, preValue: value, postValue: value)
    }

    /// Adds one.
    public func increment() async throws -> AtomicValue<Int64> { try await add(1) }
    /// Subtracts one.
    public func decrement() async throws -> AtomicValue<Int64> { try await add(-1) }
    /// Subtracts `delta`.
    public func subtract(_ delta: Int64) async throws -> AtomicValue<Int64> { try await add(0 &- delta) }

    /// Adds `delta` (wrapping on overflow, as Java's `long` does).
    public func add(_ delta: Int64) async throws -> AtomicValue<Int64> {
        try await update { $0 &+ delta }
    }

    /// Sets the value unconditionally (still a compare-and-set loop, so it may report failure).
    public func trySet(_ newValue: Int64) async throws -> AtomicValue<Int64> {
        try await update { _ in newValue }
    }

    /// Sets `newValue` only if the current value is `expected`; one attempt, like Curator's.
    public func compareAndSet(expected: Int64, newValue: Int64) async throws -> AtomicValue<Int64> {
        let current = try await read()
        let value = current?.value ?? 0
        guard value == expected else { return AtomicValue(succeeded: false, preValue: value, postValue: value) }
        let wrote = try await write(newValue, over: current)
        return AtomicValue(succeeded: wrote, preValue: value, postValue: wrote ? newValue : value)
    }

    /// Creates the node with `value` if it does not exist; `false` if it existed.
    public func initialize(_ value: Int64) async throws -> Bool {
        try await write(value, over: nil)
    }

    // MARK: - Internals

    private func update(_ transform: (Int64) -> Int64) async throws -> AtomicValue<Int64> {
        let clock = ContinuousClock()
        let start = clock.now
        var attempts = 0
        while true {
            let current = try await read()
            let value = current?.value ?? 0
            let newValue = transform(value)
            if try await write(newValue, over: current) {
                return AtomicValue(succeeded: true, preValue: value, postValue: newValue)
            }
            guard retryPolicy.allowsRetry(after: attempts, elapsed: clock.now - start) else {
                return AtomicValue(succeeded: false, preValue: value, postValue: value)
            }
            try await Task.sleep(for: retryPolicy.delay(beforeRetry: attempts))
            attempts += 1
        }
    }

    /// The value and version, or `nil` if the node does not exist.
    private func read() async throws -> VersionedValue<Int64>? {
        do {
            let (data, stat) = try await retrying(retryPolicy, client) { try await client.getData(path) }
            return VersionedValue(version: stat.version, value: try CounterCoding.int64(from: data))
        } catch let error as ZooKeeperError where error.code == .noNode {
            return nil
        }
    }

    /// Writes `value` if the node is still at `current`'s version (or still absent); `false` if not.
    private func write(_ value: Int64, over current: VersionedValue<Int64>?) async throws -> Bool {
        let data = CounterCoding.bytes(of: value)
        do {
            if let current {
                _ = try await client.setData(path, data: data, version: current.version)
            } else {
                if let parent = path.parent { try await RecipeSupport.ensurePath(client, parent, policy: retryPolicy) }
                _ = try await client.create(path, data: data)
            }
            return true
        } catch let error as ZooKeeperError where error.code == .badVersion || error.code == .nodeExists || error.code == .noNode {
            return false
        }
        // A retryable error (connection loss) propagates: the write may or may not have landed, and
        // re-reading cannot tell our write from a racer's identical one, so retrying could apply twice.
    }
}
