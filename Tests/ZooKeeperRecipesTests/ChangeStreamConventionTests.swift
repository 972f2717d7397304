import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

/// Records one change stream in the background: every element, and whether it finished.
private final class StreamLog<Element: Sendable & Equatable>: Sendable {
    let elements = Box<[Element]>([])
    let finished = Box(false)
    private let task = Box<Task<Void, Never>?>(nil)

    init(_ stream: AsyncStream<Element>) {
        let elements = self.elements, finished = self.finished
        task.update { $0 = Task {
            for await element in stream { elements.update { $0.append(element) } }
            finished.update { $0 = true }
        } }
    }

    /// Waits until an element satisfies `condition`.
    func wait(_ condition: @escaping @Sendable (Element) -> Bool) async throws {
        let elements = self.elements
        try await eventually(within: .seconds(10)) { elements.get.contains(where: condition) }
    }

    /// Waits until the stream has finished.
    func waitFinished() async throws {
        let finished = self.finished
        try await eventually(within: .seconds(10)) { finished.get }
    }

    deinit { task.get?.cancel() }
}

/// Creates `path` and any missing parents.
private func createAll(_ zk: ZooKeeperClient, _ path: String, data: [UInt8]) async throws {
    var prefix = ""
    let parts = path.split(separator: "/")
    for (index, part) in parts.enumerated() {
        prefix += "/" + part
        do {
            try await zk.create(try ZNodePath(prefix), data: index == parts.count - 1 ? data : [])
        } catch let error as ZooKeeperError where error.code == .nodeExists {
        }
    }
}

/// The change-stream convention (recipes-docs/README.md, "Conventions"): each call returns a fresh stream,
/// the current state first where there is one, then every change, and it finishes on close. Two subscribers
/// must both see every change and both streams must finish.
@Suite("Change-stream convention", .timeLimit(.minutes(1)))
struct ChangeStreamConventionTests {
    /// Two logs of `subscribe()`, `change` made, both see `seen`, close, both finish with equal logs; a
    /// stream asked for after close finishes at once.
    private func check<Element: Sendable & Equatable>(
        _ subscribe: () -> AsyncStream<Element>, change: () async throws -> Void,
        seen: @escaping @Sendable (Element) -> Bool, close: () async -> Void
    ) async throws {
        let first = StreamLog(subscribe()), second = StreamLog(subscribe())
        try await change()
        try await first.wait(seen)
        try await second.wait(seen)
        await close()
        try await first.waitFinished()
        try await second.waitFinished()
        #expect(first.elements.get == second.elements.get, "both subscribers got every change")
        let late = StreamLog(subscribe())
        try await late.waitFinished()
    }

    @Test("LeaderLatch.leadershipChanges")
    func latch() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let latch = LeaderLatch(client: clients[0], path: "/conv/latch")
                try await check(latch.leadershipChanges, change: { try await latch.start() },
                                seen: { $0.isLeader }, close: { await latch.close() })
                let after = StreamLog(latch.leadershipChanges())
                try await after.waitFinished()
                #expect(after.elements.get.map(\.isLeader) == [false], "after close: the current state, then the end")
            }
        }
    }

    @Test("after the session is lost, a new stream yields the current state and finishes; waits throw closed")
    func afterSessionLoss() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let latch = LeaderLatch(client: clients[0], path: "/conv/lost")
                try await latch.start()
                try await latch.waitForLeadership(timeout: .seconds(10))
                let before = StreamLog(latch.leadershipChanges())
                try await server.expireSession(clients[0].session)
                try await before.waitFinished()
                let after = StreamLog(latch.leadershipChanges())
                try await after.waitFinished()
                #expect(after.elements.get.map(\.isLeader) == [false])
                await #expect(throws: RecipeLifecycleError.closed) { try await latch.waitForLeadership(timeout: .seconds(10)) }
                await latch.close()
            }
        }
    }

    @Test("TreeCache.events and NodeCache.events")
    func caches() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let zk = clients[0]
                let tree = TreeCache(client: zk, path: "/conv/tree")
                try await tree.start()
                try await check(tree.events, change: { try await createAll(zk, "/conv/tree/a", data: [1]) },
                                seen: { if case .created(let node) = $0 { node.path == "/conv/tree/a" } else { false } },
                                close: { await tree.close() })
                let node = NodeCache(client: zk, path: "/conv/node")
                try await node.start()
                try await check(node.events, change: { try await createAll(zk, "/conv/node", data: [2]) },
                                seen: { if case .created = $0 { true } else { false } }, close: { await node.close() })
            }
        }
    }

    @Test("SharedCount.changes starts with the current value")
    func sharedCount() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let count = SharedCount(client: clients[0], path: "/conv/count", seedValue: 5)
                try await count.start()
                let current = StreamLog(count.changes())
                try await current.wait { $0 == 5 }
                try await check(count.changes, change: { try await count.setCount(6) },
                                seen: { $0 == 6 }, close: { await count.close() })
                #expect(current.elements.get == [5, 6])
            }
        }
    }

    @Test("PersistentNode.createdPaths and GroupMember.changes")
    func membership() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let zk = clients[0]
                let node = try PersistentNode(client: zk, path: "/conv/nodes/one", mode: .ephemeral)
                try await check(node.createdPaths, change: { try await node.start() },
                                seen: { $0 == "/conv/nodes/one" }, close: { await node.close() })
                let member = try GroupMember(client: zk, membershipPath: "/conv/group", memberID: "a")
                try await member.start()
                try await check(member.changes, change: { try await createAll(zk, "/conv/group/b", data: []) },
                                seen: { $0 == .joined("b", []) }, close: { await member.close() })
            }
        }
    }

    @Test("ServiceCache.snapshots")
    func serviceCache() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let discovery = ServiceDiscovery<String>(client: clients[0], basePath: "/conv/services")
                try await discovery.withStarted { discovery in
                    let cache = try discovery.serviceCache(named: "api")
                    try await cache.start()
                    let instance = ServiceInstance<String>(name: "api", id: "one", address: "10.0.0.1", port: 80)
                    try await check(cache.snapshots, change: { try await discovery.register(instance) },
                                    seen: { $0.map(\.id) == ["one"] }, close: { await cache.close() })
                }
            }
        }
    }
}
