import Synchronization
public import ZooKeeperClient

/// What a ``DistributedQueue`` does with an item it cannot deliver: one whose data does not decode,
/// or whose ``DistributedQueue/process(timeout:_:)`` body throws (Curator's `ErrorMode`, plus a
/// dead-letter path of ours).
///
/// Whatever the mode, the failed item never blocks the items behind it, and it is moved in the same
/// transaction that deletes it, so it is never lost nor duplicated by the move.
///
/// Notable behaviours:
/// - A body that throws because its task was cancelled is not a failure of the item: the item stays
///   where it was (its claim is simply dropped).
/// - Curator requeues with a plain `queue-` name (a priority or delay item loses its priority or due
///   time); ours keeps the name's prefix, so the item goes to the tail of its priority or due time.
/// - Curator deletes an undecodable item whatever the mode ("Corrupted queue item"); ours applies the
///   mode, so under ``requeue`` nothing is ever lost (a consumer that can decode it may come).
public enum QueueErrorMode: Sendable, Hashable {
    /// Re-create the item at the tail of the queue (Curator's `ErrorMode.REQUEUE`, its default and ours:
    /// no data is lost). Consumers back off while they see only failing items.
    case requeue
    /// Delete the item (Curator's `ErrorMode.DELETE`): its data is lost.
    case delete
    /// Move the item's data to `<path>/<name prefix><seq>` (PERSISTENT_SEQUENTIAL; `path` is created if
    /// missing), so a ``DistributedQueue`` on `path` can inspect or replay it. `path` must differ from
    /// the queue's own path.
    case deadLetter(ZNodePath)
}

/// The consecutive body failures one consumer (a ``DistributedQueue`` value and its copies) has seen:
/// the retry number of its next backoff.
final class FailureStreak: Sendable {
    private let count = Mutex(0)

    /// Records one more failure; returns the retry number for `RetryPolicy.delay(beforeRetry:)`.
    func fail() -> Int { count.withLock { count in defer { count += 1 }; return count } }

    func reset() { count.withLock { $0 = 0 } }
}

/// What offering one child to a take or a process pass gave.
enum QueueAttempt<Result> {
    /// Delivered.
    case done(Result)
    /// Not ours to deliver: gone, or claimed by another consumer.
    case skipped
    /// Undeliverable (undecodable): moved away under the queue's ``QueueErrorMode``.
    case failed
}

extension DistributedQueue {
    /// `child`'s name without its 10-digit sequence: what a requeued or dead-lettered copy is created
    /// with (keeps a priority or due time).
    static func namePrefix(of child: String) -> String {
        let digits = child.suffix(10)
        guard digits.count == 10, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nodePrefix }
        return String(child.dropLast(10))
    }

    /// The writes that go with the delete of failed item `child` (with `data`) under ``errorMode``.
    func disposal(of child: String, data: [UInt8]) throws -> [Operation] {
        let directory: ZNodePath
        switch errorMode {
        case .delete: return []
        case .requeue: directory = path
        case .deadLetter(let deadLetter): directory = deadLetter
        }
        let copy = try ZNodePath(directory.string + "/" + Self.namePrefix(of: child), sequentialPrefix: true)
        return [.create(copy, data: data, mode: .persistentSequential)]
    }

    /// After a transaction's `noNode`: if the failing operation was a create in the receipts or the
    /// dead-letter directory, creates that directory and returns true (try again); false if the item
    /// itself was gone.
    func madeMissingDirectory(for error: ZooKeeperError) async throws -> Bool {
        guard let failed = error.path else { return false }
        var directories = [try path.appending(Self.receiptsNodeName)]
        if case .deadLetter(let deadLetter) = errorMode { directories.append(deadLetter) }
        for directory in directories where failed.hasPrefix(directory.string + "/") {
            try await RecipeSupport.ensurePath(client, directory, policy: retryPolicy)
            return true
        }
        return false
    }

    func logUndeliverable(_ child: String, _ error: any Error) {
        client.configuration.logHandler.log(
            .warning, "queue \(path): item \(child) failed (\(error)); handled as \(errorMode)")
    }
}
