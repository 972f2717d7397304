import Synchronization
import ZooKeeperProtocol

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
/// - Removing the last persistent watch on a path removes all of the session's watches on that path
///   on the server (ZooKeeper 3.8 cannot remove a persistent watch alone); the client re-registers
///   its other watches there right after, so a change made meanwhile still fires them.
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

/// The caller's side of an `addWatch` that is already enqueued.
///
/// The caller may stop waiting (cancellation) while the request is in flight; its reply still arms
/// the sink when it arrives. So the outcome is always observed (by a task of its own, never
/// cancelled), and if the caller has gone by then, `onOutcome` cleans up after it.
final class AbandonableReply: Sendable {
    private enum State {
        case pending
        case waiting(CheckedContinuation<RawReply, any Error>)
        case ready(Result<RawReply, any Error>)
        case abandoned
        case done
    }

    private let state = Mutex(State.pending)

    /// Starts observing `waiter`'s outcome: `onOutcome` gets it, and whether the caller stopped waiting first.
    init(observing waiter: ReplyWaiter, onOutcome: @escaping @Sendable (Result<RawReply, any Error>, _ abandoned: Bool) async -> Void) {
        Task { [self] in
            let result: Result<RawReply, any Error>
            do {
                result = .success(try await withCheckedThrowingContinuation { continuation in _ = waiter.install(continuation) })
            } catch {
                result = .failure(error)
            }
            await onOutcome(result, complete(result))
        }
    }

    /// Hands the outcome to the caller; returns true if the caller has abandoned the request.
    private func complete(_ result: Result<RawReply, any Error>) -> Bool {
        enum Next { case resume(CheckedContinuation<RawReply, any Error>), abandoned, none }
        let next = state.withLock { state -> Next in
            switch state {
            case let .waiting(continuation):
                state = .done
                return .resume(continuation)
            case .pending:
                state = .ready(result)
                return .none
            case .abandoned: return .abandoned
            case .ready, .done: return .none
            }
        }
        switch next {
        case let .resume(continuation):
            continuation.resume(with: result)
            return false
        case .abandoned: return true
        case .none: return false
        }
    }

    /// The reply. Cancelling the caller throws `CancellationError` at once (the request stays in flight).
    func value() async throws -> RawReply {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready = state.withLock { state -> Result<RawReply, any Error>? in
                    switch state {
                    case let .ready(result):
                        state = .done
                        return result
                    case .pending:
                        if Task.isCancelled {
                            state = .abandoned
                            return .failure(CancellationError())
                        }
                        state = .waiting(continuation)
                        return nil
                    case .abandoned: return .failure(CancellationError())
                    case .waiting, .done: return .failure(CancellationError())  // one caller only
                    }
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            let waiting = state.withLock { state -> CheckedContinuation<RawReply, any Error>? in
                switch state {
                case let .waiting(continuation):
                    state = .abandoned
                    return continuation
                case .pending:
                    state = .abandoned
                    return nil
                case .ready, .abandoned, .done: return nil
                }
            }
            waiting?.resume(throwing: CancellationError())
        }
    }
}

extension ClientCore {
    /// Forgets persistent sink `id`; if no persistent watch is left on `path`, removes the server-side one.
    func dropPersistentSink(id: UInt64, path: String) async {
        guard let marker = state.withLock({ $0.watches.dropPersistent(id: id, path: path) }) else { return }
        await removeServerWatches(marker)
    }

    /// The outcome of an `addWatch` on `path` is known: sends a clean-up removal deferred behind it, if due.
    func endAddingPersistent(path: String) async {
        guard let marker = state.withLock({ $0.watches.endAddingPersistent(path) }) else { return }
        await removeServerWatches(marker)
    }

    /// Removes every watch on the marker's path on the server (Apache 3.8 has nothing narrower than
    /// `any` for a persistent watch), then re-registers those it took that the client still holds
    /// (see the notes on WatchRegistry's clean-up extension).
    private func removeServerWatches(_ marker: WatchRegistration) async {
        let waiter = ReplyWaiter()
        let request = RemoveWatchesRequest(path: marker.path, type: WatcherType.any.rawValue)
        enqueue(opCode: .removeWatches, body: request.juteBytes(), waiter: waiter, watch: marker)
        // No cancellation handler: waits for the reply or the connection's loss, whoever calls.
        let reply = try? await withCheckedThrowingContinuation { continuation in _ = waiter.install(continuation) }
        let kinds = state.withLock { $0.watches.finishRemoval(marker) }
        guard let reply, !kinds.isEmpty else { return }
        // Relative to the removal's zxid: a change after it (when nothing watched) fires at once.
        func paths(_ kind: WatchKind) -> [String] { kinds.contains(kind) ? [marker.path] : [] }
        let rearm = SetWatches2(
            relativeZxid: reply.zxid, dataWatches: paths(.data), existWatches: paths(.exist),
            childWatches: paths(.child), persistentWatches: paths(.persistent),
            persistentRecursiveWatches: paths(.persistentRecursive))
        enqueue(opCode: .setWatches2, body: rearm.juteBytes(), waiter: ReplyWaiter(), watch: nil)
    }
}
