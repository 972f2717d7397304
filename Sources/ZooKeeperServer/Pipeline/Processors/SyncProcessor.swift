/// The batch between two group commits (Apache's `SyncRequestProcessor`): the replies, notifications and
/// closes the batch's requests produced, and when those requests arrived.
///
/// Nothing held may leave before the batch's transactions are durable — a reply that reflects a write a
/// crash would lose must never be seen — so the driver appends transactions to the log as they are applied,
/// makes the log durable, and only then calls ``release(now:)``. Commands keep the order they were held in:
/// a write's notifications, held before its reply, leave before it.
///
/// Pure: no I/O; the release time is an input.
struct SyncProcessor: Sendable {
    /// A request of the batch and when it arrived: its latency ends when the batch is released.
    struct Arrival: Sendable {
        var connection: UInt64
        var receivedAt: ContinuousClock.Instant
        /// The request logs a transaction (Apache's `updatelatency`; the others are `readlatency`).
        var isUpdate: Bool
    }

    /// One request's latency, measured at the release.
    struct Latency: Sendable, Equatable {
        var connection: UInt64
        var milliseconds: Int64
        var isUpdate: Bool
    }

    /// What leaves once the batch is durable.
    struct Release: Sendable {
        /// For the network, in the order they were held.
        var commands: [NetworkCommand]
        /// For the statistics, in arrival order.
        var latencies: [Latency]
    }

    /// Commands of the current batch, in order.
    private(set) var held: [NetworkCommand] = []
    private(set) var arrivals: [Arrival] = []

    init() {}

    /// Holds a command until the batch is durable.
    mutating func hold(_ command: NetworkCommand) { held.append(command) }

    /// A request of this batch arrived at `instant`; `isUpdate`: it logs a transaction.
    mutating func received(connection: UInt64, at instant: ContinuousClock.Instant, isUpdate: Bool) {
        arrivals.append(Arrival(connection: connection, receivedAt: instant, isUpdate: isUpdate))
    }

    /// The batch is durable: everything held leaves, and the batch's requests have their latencies.
    mutating func release(now: ContinuousClock.Instant) -> Release {
        let latencies = arrivals.map {
            Latency(connection: $0.connection, milliseconds: $0.receivedAt.duration(to: now).milliseconds, isUpdate: $0.isUpdate)
        }
        let release = Release(commands: held, latencies: latencies)
        held = []
        arrivals = []
        return release
    }

    /// Released batches the reply-delay fault holds back (embedded server only), with when each may leave
    /// (monotonic ms), in release order.
    private(set) var delayed: [(at: Int64, commands: [NetworkCommand])] = []

    /// Holds a released (durable) batch back until `at`: the reply-delay fault.
    mutating func delay(_ commands: [NetworkCommand], until at: Int64) {
        delayed.append((at, commands))
    }

    /// The delayed batches due at `now`, in release order.
    mutating func due(now: Int64) -> [[NetworkCommand]] {
        guard !delayed.isEmpty else { return [] }
        let due = delayed.filter { $0.at <= now }.map(\.commands)
        delayed.removeAll { $0.at <= now }
        return due
    }

    /// When the next delayed batch is due, if one is delayed.
    var nextDue: Int64? { delayed.map(\.at).min() }

    /// The log failed: the batch's writes may be lost, so nothing held may leave.
    mutating func discard() {
        held = []
        arrivals = []
    }
}
