import Synchronization

/// How a ``ServiceProvider`` picks one instance — Curator's `ProviderStrategy` implementations.
public indirect enum ProviderStrategy: Sendable, Hashable {
    /// The call count modulo the number of instances (Curator's `RoundRobinStrategy`): successive calls
    /// cycle through the instances in id order.
    case roundRobin
    /// A uniformly random instance (`RandomStrategy`).
    case random
    /// Keeps returning the same instance while it exists; when it disappears, asks the wrapped strategy
    /// for a new one (`StickyStrategy`).
    case sticky(ProviderStrategy)
}

/// Picks an instance of a service from a ``ServiceCache`` — Curator x-discovery's `ServiceProvider`.
///
/// ```swift
/// let provider = ServiceProvider(cache: cache, strategy: .roundRobin)
/// if let instance = provider.getInstance() { connect(to: instance.address!, port: instance.port!) }
/// ```
///
/// Notable behaviours:
/// - Only instances that pass `filter` are considered; the default keeps the `enabled` ones.
/// - `nil` when no instance qualifies.
/// - Round-robin uses a single counter across calls, so when the membership changes the cycle continues
///   from `count % newSize` (as Curator's).
public final class ServiceProvider<Payload: Codable & Sendable>: Sendable {
    public typealias Instance = ServiceInstance<Payload>

    public let strategy: ProviderStrategy
    private let source: @Sendable () -> [Instance]
    private let filter: @Sendable (Instance) -> Bool
    private struct State {
        var calls = 0
        var sticky: String?
    }
    private let state = Mutex(State())

    /// A provider over a cache's current snapshot.
    public convenience init(
        cache: ServiceCache<Payload>, strategy: ProviderStrategy = .roundRobin,
        filter: @escaping @Sendable (Instance) -> Bool = { $0.enabled }
    ) {
        self.init(strategy: strategy, filter: filter) { cache.instances }
    }

    /// A provider over any source of instances.
    public init(
        strategy: ProviderStrategy = .roundRobin, filter: @escaping @Sendable (Instance) -> Bool = { $0.enabled },
        instances source: @escaping @Sendable () -> [Instance]
    ) {
        self.strategy = strategy
        self.filter = filter
        self.source = source
    }

    /// Every instance that passes the filter.
    public func getAllInstances() -> [Instance] { source().filter(filter) }

    /// One instance chosen by the strategy, or `nil` if there is none.
    public func getInstance() -> Instance? {
        let candidates = getAllInstances()
        return state.withLock { state in Self.pick(strategy, from: candidates, state: &state) }
    }

    private static func pick(_ strategy: ProviderStrategy, from instances: [Instance], state: inout State) -> Instance? {
        guard !instances.isEmpty else { return nil }
        switch strategy {
        case .roundRobin:
            let index = state.calls % instances.count
            state.calls &+= 1
            return instances[index]
        case .random:
            return instances.randomElement()
        case .sticky(let master):
            if let id = state.sticky, let kept = instances.first(where: { $0.id == id }) { return kept }
            let chosen = pick(master, from: instances, state: &state)
            state.sticky = chosen?.id
            return chosen
        }
    }
}
