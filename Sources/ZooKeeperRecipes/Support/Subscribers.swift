/// The consumers of one of a recipe's change streams.
///
/// Kept inside the recipe's `Mutex`-protected state, so a change and its delivery happen in one
/// critical section and every subscriber sees changes in the order they happened (`yield` on an
/// unbounded or newest-buffered stream only appends to a buffer: it never blocks).
struct Subscribers<Element: Sendable>: Sendable {
    private var continuations: [UInt64: AsyncStream<Element>.Continuation] = [:]
    private var nextID: UInt64 = 0

    /// Registers `continuation`; returns its id for ``remove(_:)``.
    mutating func add(_ continuation: AsyncStream<Element>.Continuation) -> UInt64 {
        nextID += 1
        continuations[nextID] = continuation
        return nextID
    }

    mutating func remove(_ id: UInt64) { continuations.removeValue(forKey: id) }

    /// Delivers `element` to every subscriber.
    func yield(_ element: Element) {
        for continuation in continuations.values { continuation.yield(element) }
    }

    /// Forgets every subscriber and returns them, to be finished outside the lock.
    mutating func removeAll() -> [AsyncStream<Element>.Continuation] {
        defer { continuations = [:] }
        return Array(continuations.values)
    }
}

extension AsyncStream.Continuation {
    /// Runs `remove` once the stream's consumer is gone (it stopped iterating, or was cancelled).
    ///
    /// Always from a new task, never inline: the runtime runs `onTermination` of a cancelled consumer
    /// while holding that task's status lock, and a recipe yielding under its own lock needs that status
    /// lock to resume the consumer — an inline `remove` taking the recipe's lock deadlocks (ABBA; seen
    /// in TreeCache under repeated runs).
    func removeOnTermination(_ remove: @escaping @Sendable () -> Void) {
        onTermination = { _ in Task { remove() } }
    }
}
