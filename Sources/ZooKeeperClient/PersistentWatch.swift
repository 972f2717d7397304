/// The events of a persistent or persistent-recursive watch (`addWatch`, ZooKeeper 3.6+), as an `AsyncSequence`.
///
/// Notable behaviours:
/// - The watch stays armed after each event and is re-added on reconnect. ZooKeeper does **not** replay
///   events missed while disconnected for persistent watches: watch ``ZooKeeperClient/connectionStates()``
///   for `.reconnected` and re-read state if you need it (Curator's CuratorCache does the same).
/// - A recursive watch reports created / deleted / data-changed for the whole subtree, never children-changed.
/// - The sequence finishes by throwing when the session ends. Dropping the iterator (or calling
///   ``ZooKeeperClient/removeWatches(_:type:local:)``) removes the watch.
/// - Events are buffered without bound, in order; a consumer that stops reading holds memory.
public struct PersistentWatch: AsyncSequence, Sendable {
    public typealias Element = WatchedEvent
    public typealias Failure = any Error

    let stream: AsyncThrowingStream<WatchedEvent, any Error>

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<WatchedEvent, any Error>.AsyncIterator
        public mutating func next() async throws -> WatchedEvent? { try await base.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: stream.makeAsyncIterator()) }
}
