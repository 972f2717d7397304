/// The matrix's suites: one per recipe family. Each states its invariant (printed with the table and
/// written to the report) and checks it under every fault.
enum Suite: String, CaseIterable, Sendable {
    case locks
    case rwlock
    case semaphore
    case multilock
    case latch
    case selector
    case queue
    case barrier
    case doubleBarrier = "double-barrier"
    case caches
    case discovery
    case counters
    case membership

    var invariant: String {
        switch self {
        case .locks: LockSuite.invariant
        case .rwlock: RWLockSuite.invariant
        case .semaphore: SemaphoreSuite.invariant
        case .multilock: MultiLockSuite.invariant
        case .latch: LatchSuite.invariant
        case .selector: SelectorSuite.invariant
        case .queue: QueueSuite.invariant
        case .barrier: BarrierSuite.invariant
        case .doubleBarrier: DoubleBarrierSuite.invariant
        case .caches: CacheSuite.invariant
        case .discovery: DiscoverySuite.invariant
        case .counters: CounterSuite.invariant
        case .membership: MembershipSuite.invariant
        }
    }

    func run(_ context: ScenarioContext) async throws {
        switch self {
        case .locks: try await LockSuite().run(context)
        case .rwlock: try await RWLockSuite().run(context)
        case .semaphore: try await SemaphoreSuite().run(context)
        case .multilock: try await MultiLockSuite().run(context)
        case .latch: try await LatchSuite().run(context)
        case .selector: try await SelectorSuite().run(context)
        case .queue: try await QueueSuite().run(context)
        case .barrier: try await BarrierSuite().run(context)
        case .doubleBarrier: try await DoubleBarrierSuite().run(context)
        case .caches: try await CacheSuite().run(context)
        case .discovery: try await DiscoverySuite().run(context)
        case .counters: try await CounterSuite().run(context)
        case .membership: try await MembershipSuite().run(context)
        }
    }
}
