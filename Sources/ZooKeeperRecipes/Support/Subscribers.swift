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

extension Subscribers {
    /// A new subscriber's stream.
    ///
    /// - Parameters:
    ///   - register: runs under the owner's lock: yields what the subscriber must see first (a buffer
    ///     append, so nothing can slip in between) and adds the continuation, returning its id — or
    ///     `nil` when the owner is closed, which finishes the stream at once.
    ///   - remove: drops the subscriber once its consumer is gone (from a task: see ``AsyncStream/Continuation/removeOnTermination(_:)``).
    static func stream(
        bufferingPolicy: AsyncStream<Element>.Continuation.BufferingPolicy = .unbounded,
        register: (AsyncStream<Element>.Continuation) -> UInt64?,
        remove: @escaping @Sendable (UInt64) -> Void
    ) -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream.makeStream(of: Element.self, bufferingPolicy: bufferingPolicy)
        guard let id = register(continuation) else {
            continuation.finish()
            return stream
        }
        continuation.removeOnTermination { remove(id) }
        return stream
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
