import ZooKeeperClient

/// What a running lock body (``DistributedMutex/withLock(timeout:_:)``, the read/write lock's halves,
/// ``DistributedSemaphore/withLease(timeout:_:)``) does when the connection is suspended — Curator's
/// `ConnectionStateErrorPolicy`, with the same two choices.
///
/// Both are safe for exclusion: the client publishes ``ConnectionState/presumedExpired`` before the
/// earliest instant a server may expire the session (see ``ZooKeeperConfiguration/sessionExpiryMargin``),
/// so a body cancelled then has ended before anyone else can be granted the lock. They differ in slack
/// and availability:
/// - ``cancelOnSuspension`` (the default, Curator's `StandardConnectionStateErrorPolicy`) cancels the body
///   when the connection is lost (two thirds of the session timeout after the server was last heard), a
///   third of the session timeout before the session can expire: the most room for a slow body to stop.
///   A server restart or a dropped connection ends the body even when the session survives.
/// - ``cancelOnPresumedExpiry`` (Curator's `SessionConnectionStateErrorPolicy`) lets the body run through
///   a suspension and cancels it only when the session is presumed expired: a short outage does not
///   interrupt the work, but the body must stop within the client's safety margin once cancelled.
///
/// Either way, writes to *other* systems are only protected by the fencing token or a guarded write
/// (``LockLease/guardedMulti(_:)``): a body that ignores cancellation can still run late.
public enum SuspensionPolicy: Sendable, Hashable {
    /// Cancel the body as soon as the connection is suspended (or the client is on a read-only server).
    case cancelOnSuspension
    /// Keep the body running while suspended; cancel it when the session is presumed expired or lost.
    case cancelOnPresumedExpiry

    /// Whether `state` ends a body under this policy (presumed expiry and loss end the lease itself).
    func cancelsBody(in state: ConnectionState) -> Bool {
        switch (self, state) {
        case (.cancelOnSuspension, .suspended), (.cancelOnSuspension, .readOnly), (.cancelOnSuspension, .connecting): true
        default: false
        }
    }
}
