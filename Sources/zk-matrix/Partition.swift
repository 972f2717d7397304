import Synchronization
import ZooKeeperClient
import ZooKeeperTestSupport

/// The `partition` fault's network: every client of a scenario reaches the target through proxies
/// of its own (one per server), so one client — the victim — can be cut off silently (TCP open,
/// nothing arriving) while every other client carries on.
final class PartitionNetwork: Sendable {
    /// How long the victim stays cut off: longer than the session timeout, so the servers expire
    /// its session while it cannot hear about it.
    let duration: Duration
    private struct State {
        var proxies: [ObjectIdentifier: FaultProxies] = [:]
        var heal: Task<Void, Never>?
        var stalled: FaultProxies?
    }
    private let state = Mutex(State())

    init(sessionTimeout: Duration) {
        duration = sessionTimeout * 3 / 2
    }

    /// Proxies for a new client of `connectString`; pass the client to ``register(_:_:)`` once connected.
    func makeProxies(for connectString: String) throws -> FaultProxies {
        try FaultProxies(connectString: connectString)
    }

    func register(_ client: ZooKeeperClient, _ proxies: FaultProxies) {
        state.withLock { $0.proxies[ObjectIdentifier(client)] = proxies }
    }

    /// Stalls the victim's proxies both ways now and heals them after ``duration`` (in the background).
    func partition(_ victim: ZooKeeperClient) throws {
        guard let proxies = state.withLock({ $0.proxies[ObjectIdentifier(victim)] }) else {
            throw MatrixError("the victim does not connect through a proxy")
        }
        proxies.stall(.both)
        let duration = self.duration
        let heal = Task {
            try? await Task.sleep(for: duration)  // the fault's length, not a synchronisation
            proxies.heal()
        }
        state.withLock {
            $0.heal = heal
            $0.stalled = proxies
        }
    }

    /// Waits until the partition has healed (at most ``duration`` after it began).
    func waitUntilHealed() async {
        await state.withLock { $0.heal }?.value
    }

    /// Heals at once and stops every proxy (after the clients are closed).
    func shutdown() {
        let (heal, stalled, all) = state.withLock { state in
            defer { state = State() }
            return (state.heal, state.stalled, Array(state.proxies.values))
        }
        heal?.cancel()
        stalled?.heal()
        all.forEach { $0.stop() }
    }
}
