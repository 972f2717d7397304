import ZooKeeperClient
import ZooKeeperRecipes

/// Config subscription: a writer rewrites `config/x` and `config/y` with a rising counter and creates
/// then deletes `config/z`, before, across and after the fault; a TreeCache on the victim's client and a
/// NodeCache on `config/x` (a bystander's client) follow it.
struct CacheSuite {
    static let invariant = """
        every cache's events replay in order without going backwards: .initialized first, created/changed/deleted \
        consistent with what was seen, each change strictly newer (mzxid) and its value not smaller — changes may \
        coalesce (documented) but never repeat or reorder; within the session timeout + 5 s of the last write each \
        cache equals the server (data + mzxid of every node); a cache whose session the fault kept must have \
        resynced (.resynced) after client-server-killed; a cache whose session the fault expired finishes its \
        stream (documented) and a new cache on a new session converges (per-cache ordering only: a new session \
        may start on a lagging server)
        """
    let writesBefore = 10
    let writesAfter = 10

    func run(_ context: ScenarioContext) async throws {
        try await context.prepare()
        let config = try context.root.appending("config")
        let x = try config.appending("x"), y = try config.appending("y"), z = try config.appending("z")
        let writer = try await context.client()
        for path in [config, x, y] { _ = try await writer.create(path, data: Array("0".utf8)) }

        let slot = try await ClientSlot(context)
        let victim = slot.client
        let follower = TreeFollower(slot: slot, path: config)
        let following = Task { await follower.run() }
        let bystander = NodeCache(client: try await context.client(), path: x)
        let bystanderReplay = CacheReplay("NodeCache x")
        let bystanderEvents = bystander.events()
        try await bystander.start()
        let bystanderTask = Task { await bystanderReplay.follow(bystanderEvents) }
        try await waitFor("the TreeCache started", timeout: .seconds(10)) { follower.current != nil }

        let disturbed = Shared(false)
        let states = victim.connectionStates()
        let monitor = Task { for await state in states where !state.isConnected { disturbed.withLock { $0 = true } } }
        defer { monitor.cancel() }

        var counter = 0
        func write() async throws {
            counter += 1
            let value = Array("\(counter)".utf8)
            try await Self.retrying { _ = try await writer.setData(counter % 2 == 0 ? x : y, data: value) }
            if counter == writesBefore + 2 { try await Self.retrying { try await Self.create(writer, z, value) } }
            if counter == writesBefore + 6 { try await Self.retrying { try await Self.delete(writer, z) } }
        }
        for _ in 0..<writesBefore { try await write() }
        try await context.injectFault(victim: victim)
        // Across the fault: until the victim was disturbed and is back (or lost), or 1 s if it never was.
        let start = ContinuousClock.now
        let bound = context.sessionTimeout * 2 + .seconds(2)
        while ContinuousClock.now - start < bound {
            try await write()
            let back = victim.connectionState.isConnected || victim.connectionState.isLost
            if disturbed.value ? back : ContinuousClock.now - start > .seconds(1) { break }
            try await Task.sleep(for: .milliseconds(20))  // the writer's pace
        }
        for _ in 0..<writesAfter { try await write() }
        try await context.verifyFault()

        let checker = try await context.client()
        try await converge("the caches equal to the server", timeout: context.sessionTimeout + .seconds(5)) {
            let server = try await serverTree(checker, config)
            if let diff = difference(follower.current?.snapshot ?? [:], server) { return "TreeCache: \(diff)" }
            if let diff = difference(follower.replays.last?.state.value.nodes ?? [:], server) { return "TreeCache events: \(diff)" }
            guard let serverX = server[x] else { return "x missing on the server" }
            if let diff = difference(bystanderReplay.state.value.nodes, [x: serverX]) { return "NodeCache events: \(diff)" }
            return nil
        }
        await follower.stop()
        following.cancel()
        await following.value
        await bystander.close()
        await bystanderTask.value

        let replays = follower.replays + [bystanderReplay]
        let violations = replays.flatMap { $0.state.value.violations }
        if !violations.isEmpty { throw MatrixError(violations.prefix(4).joined(separator: "; ")) }
        let resyncs = follower.replays.map { $0.state.value.resyncs }.reduce(0, +)
        if context.fault == .clientServerKilled, resyncs == 0 { throw MatrixError("the victim's TreeCache never resynced after its reconnect") }
        let events = replays.map { "\($0.state.value.events)" }.joined(separator: "+")
        context.note("\(counter) writes, events \(events), \(follower.replays.count) TreeCache(s), \(resyncs) resync(s)")
    }

    static func create(_ client: ZooKeeperClient, _ path: ZNodePath, _ data: [UInt8]) async throws {
        do { _ = try await client.create(path, data: data) } catch let error as ZooKeeperError where error.code == .nodeExists {}
    }

    static func delete(_ client: ZooKeeperClient, _ path: ZNodePath) async throws {
        do { try await client.delete(path) } catch let error as ZooKeeperError where error.code == .noNode {}
    }

    /// The writer's own retries across server faults (it is never the victim).
    static func retrying(_ operation: () async throws -> Void) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            do { return try await operation() } catch let error as ZooKeeperError where error.isRetryable && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}

/// The victim's TreeCache, replaced by a new one on a new client when its session ends.
final class TreeFollower: Sendable {
    private let slot: ClientSlot
    private let path: ZNodePath
    private let state = Shared<(cache: TreeCache?, replays: [CacheReplay], stopped: Bool)>((nil, [], false))

    init(slot: ClientSlot, path: ZNodePath) {
        self.slot = slot
        self.path = path
    }

    var current: TreeCache? { state.value.cache }
    var replays: [CacheReplay] { state.value.replays }

    func run() async {
        while !state.value.stopped, !Task.isCancelled {
            let cache = TreeCache(client: slot.client, path: path)
            let replay = CacheReplay("TreeCache #\(state.value.replays.count + 1)")
            let events = cache.events()
            do {
                try await cache.start()
            } catch {
                await cache.close()
                do { try await slot.recover(after: error) } catch { return }
                continue
            }
            let stopped = state.withLock { state -> Bool in
                state.cache = cache
                state.replays.append(replay)
                return state.stopped
            }
            if stopped { await cache.close() }
            await replay.follow(events)  // ends on session loss (documented) or close
            guard !state.value.stopped else { return }
            do { try await slot.recover(after: MatrixError("the cache's session ended")) } catch { return }
        }
    }

    func stop() async {
        let cache = state.withLock { state -> TreeCache? in
            state.stopped = true
            return state.cache
        }
        await cache?.close()
    }
}
