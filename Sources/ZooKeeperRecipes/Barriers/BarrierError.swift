/// Why a barrier operation failed (besides ``ZooKeeperError`` and `CancellationError`).
public enum BarrierError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The wait did not end within the timeout: ``DistributedBarrier/waitForRelease(timeout:)`` (the barrier
    /// is still set), ``DistributedDoubleBarrier/enter(timeout:)`` (the group is not complete; our node
    /// stays until ``DistributedDoubleBarrier/leave(timeout:)``) or ``DistributedDoubleBarrier/leave(timeout:)``
    /// (others have not left; our node is deleted all the same).
    case timedOut
    /// A ``DistributedDoubleBarrier``'s member node is gone while others remain (our session expired and a
    /// new one took over).
    case ourNodeMissing(String)
    /// One ``DistributedDoubleBarrier`` member node remains and it is not ours.
    case lastNodeNotOurs(String)

    public var description: String {
        switch self {
        case .timedOut: return "the barrier wait did not end within the timeout"
        case .ourNodeMissing(let path): return "our double-barrier node \(path) is gone while other members remain"
        case .lastNodeNotOurs(let path): return "the last double-barrier node \(path) is not ours"
        }
    }
}

/// The double barrier's errors are ``BarrierError``'s.
@available(*, deprecated, renamed: "BarrierError")
public typealias DoubleBarrierError = BarrierError
