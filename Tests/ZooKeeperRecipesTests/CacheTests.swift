import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

/// Records a cache's events in the background.
private final class EventLog: Sendable {
    let events = Box<[CacheEvent]>([])
    let finished = Box(false)
    private let task: Box<Task<Void, Never>?> = Box(nil)

    init(_ stream: AsyncStream<CacheEvent>) {
        let events = self.events, finished = self.finished
        task.update { $0 = Task {
            for await event in stream { events.update { $0.append(event) } }
            finished.update { $0 = true }
        } }
    }

    /// Waits until `count` events have arrived; returns them all.
    func wait(for count: Int) async throws -> [CacheEvent] {
        try await eventually(within: .seconds(10)) { events.get.count >= count }
        return events.get
    }

    deinit { task.get?.cancel() }
}

private func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

@Suite("Caches", .timeLimit(.minutes(1)))
struct CacheTests {
    @Test("TreeCache: initial snapshot of the whole subtree, readable through current/snapshot")
    func initialSnapshot() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let zk = clients[0]
                try await zk.create("/cfg", data: bytes("root"))
                try await zk.create("/cfg/a", data: bytes("1"))
                try await zk.create("/cfg/a/b", data: bytes("2"))
                try await zk.create("/cfg/c", data: [])
                try await zk.create("/other", data: [])
                let cache = TreeCache(client: zk, path: "/cfg")
                let log = EventLog(cache.events())
                try await cache.withStarted { cache in
                    let events = try await log.wait(for: 1)
                    guard case let .initialized(snapshot) = events[0] else { Issue.record("got \(events)"); return }
                    #expect(Set(snapshot.keys) == ["/cfg", "/cfg/a", "/cfg/a/b", "/cfg/c"])
                    #expect(snapshot["/cfg/a/b"]?.data == bytes("2"))
                    #expect(cache.current("/cfg/a")?.data == bytes("1"))
                    #expect(cache.snapshot == snapshot)
                    // A late subscriber starts from the same snapshot.
                    let late = EventLog(cache.events())
                    #expect(try await late.wait(for: 1) == [.initialized(snapshot)])
                }
            }
        }
    }

    @Test("TreeCache: create, change, delete arrive in order, deep nodes included")
    func eventsInOrder() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let (zk, writer) = (clients[0], clients[1])
                try await zk.create("/cfg", data: [])
                let cache = TreeCache(client: zk, path: "/cfg")
                let log = EventLog(cache.events())
                try await cache.withStarted { cache in
                    _ = try await log.wait(for: 1)
                    try await writer.create("/cfg/x", data: bytes("v1"))
                    _ = try await log.wait(for: 2)
                    try await writer.setData("/cfg/x", data: bytes("v2"))
                    _ = try await log.wait(for: 3)
                    try await writer.create("/cfg/x/deep", data: bytes("d"))
                    _ = try await log.wait(for: 4)
                    try await writer.delete("/cfg/x/deep")
                    _ = try await log.wait(for: 5)
                    try await writer.delete("/cfg/x")
                    let events = Array(try await log.wait(for: 6).dropFirst())
                    guard events.count == 5, case let .created(c) = events[0], case let .changed(ch) = events[1],
                          case let .created(deep) = events[2] else { Issue.record("got \(events)"); return }
                    #expect(c.path == "/cfg/x" && c.data == bytes("v1"))
                    #expect(ch.path == "/cfg/x" && ch.data == bytes("v2"))
                    #expect(deep.path == "/cfg/x/deep")
                    #expect(events[3] == .deleted("/cfg/x/deep"))
                    #expect(events[4] == .deleted("/cfg/x"))
                    #expect(Set(cache.snapshot.keys) == ["/cfg"])
                }
            }
        }
    }

    @Test("TreeCache maxDepth 1 (PathChildrenCache shape): children cached and followed, grandchildren not")
    func maxDepthOne() async throws {
        try await withRecipeServer { server in
            try await withClients(1, on: server) { clients in
                let zk = clients[0]
                try await zk.create("/jobs", data: [])
                try await zk.create("/jobs/a", data: bytes("1"))
                try await zk.create("/jobs/a/deep", data: bytes("x"))
                let cache = TreeCache(client: zk, path: "/jobs", maxDepth: 1)
                let log = EventLog(cache.events())
                try await cache.withStarted { cache in
                    guard case let .initialized(snapshot) = try await log.wait(for: 1)[0] else { Issue.record("no snapshot"); return }
                    #expect(Set(snapshot.keys) == ["/jobs", "/jobs/a"])
                    try await zk.create("/jobs/a/deeper", data: [])     // below maxDepth: not reported
                    try await zk.setData("/jobs/a/deep", data: bytes("y"))  // below maxDepth: not reported
                    try await zk.create("/jobs/b", data: bytes("2"))   // a child: reported, after the ignored ones
                    let events = try await log.wait(for: 2)
                    let created = try #require(cache.current("/jobs/b"))
                    #expect(events == [.initialized(snapshot), .created(created)], "nothing below maxDepth: \(events)")
                    #expect(Set(cache.snapshot.keys) == ["/jobs", "/jobs/a", "/jobs/b"])
                }
            }
        }
    }

    @Test("TreeCache: changes made while disconnected show up after reconnect exactly once", .enabled(if: RecipeServer.targetIsEmbedded, "needs the embedded server's fault injection"))
    func resyncAfterReconnect() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let (zk, writer) = (clients[0], clients[1])
                try await zk.create("/cfg", data: [])
                try await zk.create("/cfg/a", data: bytes("old"))
                try await zk.create("/cfg/gone", data: [])
                let cache = TreeCache(client: zk, path: "/cfg")
                let log = EventLog(cache.events())
                try await cache.withStarted { cache in
                    _ = try await log.wait(for: 1)

                    let states = zk.connectionStates()
                    let session = try #require(zk.session).id
                    await (try server.faults).partition(session: session)
                    try await waitForState(states) { $0 == .suspended }
                    try await writer.setData("/cfg/a", data: bytes("new"))
                    try await writer.create("/cfg/born", data: bytes("b"))
                    try await writer.delete("/cfg/gone")
                    await (try server.faults).heal(session: session)
                    try await waitForState(states) { $0 == .reconnected }

                    var events = Array(try await log.wait(for: 5).dropFirst())
                    #expect(events.last == .resynced)
                    events.removeLast()
                    #expect(events.count == 3)
                    #expect(events.contains(.deleted("/cfg/gone")))
                    #expect(events.contains { if case let .changed(d) = $0 { d.path == "/cfg/a" && d.data == bytes("new") } else { false } })
                    #expect(events.contains { if case let .created(d) = $0 { d.path == "/cfg/born" } else { false } })

                    // Nothing duplicated: the next event is the next write.
                    try await writer.setData("/cfg/a", data: bytes("marker"))
                    let after = try await log.wait(for: 6)
                    #expect(after.count == 6)
                    guard case let .changed(marker) = after[5] else { Issue.record("got \(after)"); return }
                    #expect(marker.data == bytes("marker"))
                    #expect(cache.current("/cfg/a")?.data == bytes("marker"))
                    #expect(cache.current("/cfg/gone") == nil)
                }
            }
        }
    }

    @Test("close finishes the event streams; session loss does too")
    func closeStopsStream() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let cache = TreeCache(client: clients[0], path: "/cfg")
                let log = EventLog(cache.events())
                try await cache.start()
                _ = try await log.wait(for: 1)
                await cache.close()
                try await eventually(within: .seconds(10)) { log.finished.get }
                #expect(log.events.get == [.initialized([:])])
                let afterClose = EventLog(cache.events())
                try await eventually(within: .seconds(10)) { afterClose.finished.get }

                let other = TreeCache(client: clients[1], path: "/cfg")
                let otherLog = EventLog(other.events())
                try await other.start()
                _ = try await otherLog.wait(for: 1)
                try await server.expireSession(clients[1].session)
                try await eventually(within: .seconds(10)) { otherLog.finished.get }
            }
        }
    }

    @Test("TreeCache: a burst of writes yields strictly newer .changed events, ending at the last value")
    func burstHasNoDuplicates() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let (zk, writer) = (clients[0], clients[1])
                try await zk.create("/cfg", data: bytes("0"))
                let cache = TreeCache(client: zk, path: "/cfg")
                let log = EventLog(cache.events())
                try await cache.withStarted { cache in
                    _ = try await log.wait(for: 1)
                    for value in 1...30 { try await writer.setData("/cfg", data: bytes("\(value)")) }
                    try await eventually(within: .seconds(10)) { cache.current("/cfg")?.data == bytes("30") }
                    try await eventually(within: .seconds(10)) {
                        if case let .changed(last) = log.events.get.last { last.data == bytes("30") } else { false }
                    }
                    let zxids = log.events.get.dropFirst().compactMap { event -> Int64? in
                        if case let .changed(data) = event { data.stat.mzxid } else { nil }
                    }
                    #expect(zxids.count == log.events.get.count - 1)
                    #expect(zip(zxids, zxids.dropFirst()).allSatisfy { $0 < $1 })
                }
            }
        }
    }

    private struct Limits: Codable, Equatable { var maxWorkers: Int }

    @Test("NodeCache: absent node, then typed value on create/change, children ignored")
    func nodeCacheTyped() async throws {
        try await withRecipeServer { server in
            try await withClients(2, on: server) { clients in
                let (zk, writer) = (clients[0], clients[1])
                let cache = NodeCache(client: zk, path: "/limits")
                let log = EventLog(cache.events())
                try await cache.withStarted { cache in
                    #expect(try await log.wait(for: 1) == [.initialized([:])])
                    #expect(try cache.value(Limits.self) == nil)
                    try await writer.create("/limits", data: Array(try JSONEncoder().encode(Limits(maxWorkers: 4))))
                    _ = try await log.wait(for: 2)
                    #expect(try cache.value(Limits.self) == Limits(maxWorkers: 4))
                    try await writer.create("/limits/child", data: [])
                    try await writer.setData("/limits", data: Array(try JSONEncoder().encode(Limits(maxWorkers: 8))))
                    let events = try await log.wait(for: 3)
                    #expect(events.count == 3)
                    guard case let .changed(data) = events[2] else { Issue.record("got \(events)"); return }
                    #expect(try data.decode(Limits.self) == Limits(maxWorkers: 8))
                    #expect(try cache.value(Limits.self) == Limits(maxWorkers: 8))
                }
            }
        }
    }
}
