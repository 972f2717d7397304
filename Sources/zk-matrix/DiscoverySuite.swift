import ZooKeeperClient
import ZooKeeperRecipes

/// ServiceDiscovery: "processes" p0 (the victim; with a reconnect factory), p1 and p2 register an
/// instance of `api` each; an observer follows them with a ServiceCache. After the fault p2 dies (its
/// client closes without unregistering) and p3 starts and registers.
struct DiscoverySuite {
    static let invariant = """
        the observer's ServiceCache converges to exactly the instances of live processes {p0, p1, p3} within \
        2 × session timeout + 10 s of the fault, and on the server each instance node is owned by its process's \
        current session (p0's a new one after expiry/partition: re-registered through its reconnect factory); \
        p2's instance vanishes from the observer's cache within 2 × session timeout + 5 s of its process dying \
        (its session's close needs a quorum: after a leader kill, an election first)
        """

    func run(_ context: ScenarioContext) async throws {
        try await context.prepare()
        let base = try context.root.appending("services")
        func process(_ id: String, reconnecting: Bool) async throws -> ServiceDiscovery<String> {
            let reconnect: (@Sendable () async throws -> ZooKeeperClient)? = reconnecting ? { @Sendable () async throws -> ZooKeeperClient in try await context.client() } : nil
            let discovery = ServiceDiscovery<String>(client: try await context.client(), basePath: base, reconnect: reconnect)
            try await discovery.start()
            try await discovery.register(ServiceInstance(name: "api", id: id, address: "127.0.0.1", port: 8000, payload: id))
            return discovery
        }
        let p0 = try await process("p0", reconnecting: true)
        let p1 = try await process("p1", reconnecting: false)
        let p2 = try await process("p2", reconnecting: false)
        let observer = ServiceCache<String>(client: try await context.client(), path: try base.appending("api"))
        try await observer.start()
        func ids() -> Set<String> { Set(observer.instances.map(\.id)) }
        try await waitFor("the observer sees p0, p1, p2", timeout: .seconds(10)) { ids() == ["p0", "p1", "p2"] }

        try await context.injectFault(victim: p0.client)
        let died = ContinuousClock.now
        await p2.client.close()  // the process dies: no unregister
        // Closing the session needs a quorum: after a leader kill, the election comes first.
        let vanishBound = context.sessionTimeout * 2 + .seconds(5)
        try await waitFor("p2's instance gone after its process died", timeout: vanishBound) { !ids().contains("p2") }
        context.note("p2 vanished \(Outcome.seconds(.now - died)) after its process died")
        let p3 = try await process("p3", reconnecting: false)
        try await context.verifyFault()

        let checker = try await context.client()
        let processes = ["p0": p0, "p1": p1, "p3": p3]
        try await converge("discovery of the live processes", timeout: context.sessionTimeout * 2 + .seconds(10)) {
            guard ids() == Set(processes.keys) else { return "observer sees \(ids().sorted())" }
            for (id, discovery) in processes {
                guard let stat = try await checker.exists(try base.appending("api").appending(id)) else { return "\(id) not registered" }
                let session = discovery.client.session?.id
                if stat.ephemeralOwner != session { return "\(id)'s node owned by \(stat.ephemeralOwner), its session is \(session.map { "\($0)" } ?? "none")" }
            }
            return nil
        }
        if p0.client.session?.id != context.victimSession { context.note("p0 re-registered on a new session") }
        await observer.close()
        for discovery in [p0, p1, p3] { await discovery.close() }
    }
}
