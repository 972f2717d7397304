/// Why a queue operation failed (besides ``ZooKeeperError``, `CancellationError` and a processing body's
/// own error).
public enum QueueError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No item could be taken within the timeout; nothing was taken.
    case timedOut

    public var description: String {
        switch self {
        case .timedOut: return "no item was taken within the timeout"
        }
    }
}
