import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

@Suite("Watches", .enabled(if: integrationEnabled, integrationSkipReason), .timeLimit(.minutes(1)))
struct WatchTests {
    @Test("getDataWatching fires NodeDataChanged, then NodeDeleted")
    func dataWatch() async throws {
        try await withTestClient("w-data") { zk, context in
            try await zk.create("/n", data: bytes("a"))
            let (data, _, changed) = try await zk.getDataWatching("/n")
            #expect(data == bytes("a"))
            #expect(changed.firedEvent == nil)
            // The change comes from another session, so the event travels on its own.
            try await withOtherClient(context) { other in _ = try await other.setData("/n", data: bytes("b")) }
            #expect(try await awaitEvent(changed) == .synced(.nodeDataChanged, "/n"))

            let (_, _, deleted) = try await zk.getDataWatching("/n")
            try await zk.delete("/n")
            #expect(try await awaitEvent(deleted) == .synced(.nodeDeleted, "/n"))
        }
    }

    @Test("existsWatching on a missing node fires NodeCreated")
    func existsWatchOnMissingNode() async throws {
        try await withTestClient("w-exists") { zk, context in
            let (stat, watch) = try await zk.existsWatching("/later")
            #expect(stat == nil)
            // Armed on the server although the node is missing.
            try await zk.checkWatches("/later", type: .data)
            _ = try await withOtherClient(context) { other in try await other.create("/later") }
            #expect(try await awaitEvent(watch) == .synced(.nodeCreated, "/later"))

            // On an existing node the exists watch sees data changes too.
            let (existing, onData) = try await zk.existsWatching("/later")
            #expect(existing != nil)
            try await zk.setData("/later", data: bytes("x"))
            #expect(try await awaitEvent(onData) == .synced(.nodeDataChanged, "/later"))
        }
    }

    @Test("getChildrenWatching fires NodeChildrenChanged, then NodeDeleted")
    func childWatch() async throws {
        try await withTestClient("w-child") { zk, _ in
            try await zk.create("/p")
            let (children, _, added) = try await zk.getChildrenWatching("/p")
            #expect(children.isEmpty)
            try await zk.checkWatches("/p", type: .children)
            try await zk.create("/p/c")
            #expect(try await awaitEvent(added) == .synced(.nodeChildrenChanged, "/p"))

            // A data change on the parent does not trigger a child watch.
            let (_, _, removed) = try await zk.getChildrenWatching("/p")
            try await zk.setData("/p", data: bytes("d"))
            try await zk.delete("/p/c")
            #expect(try await awaitEvent(removed) == .synced(.nodeChildrenChanged, "/p"))

            let (_, _, gone) = try await zk.getChildrenWatching("/p")
            try await zk.delete("/p")
            #expect(try await awaitEvent(gone) == .synced(.nodeDeleted, "/p"))
        }
    }

    @Test("a one-shot watch fires once: the server forgets it, a fresh watch sees only later changes")
    func oneShotFiresOnce() async throws {
        try await withTestClient("w-once") { zk, context in
            try await zk.create("/n", data: bytes("0"))
            let (_, _, watch) = try await zk.getDataWatching("/n")
            try await withOtherClient(context) { other in
                try await other.setData("/n", data: bytes("1"))
                try await other.setData("/n", data: bytes("2"))
            }
            let first = try await awaitEvent(watch)
            #expect(first == .synced(.nodeDataChanged, "/n"))
            // The second change found no watch: nothing is armed any more, on the server or locally.
            #expect(await zkErrorCode { try await zk.checkWatches("/n", type: .data) } == .noWatcher)
            #expect(await zkErrorCode { try await zk.removeWatches("/n", type: .any) } == .noWatcher)
            #expect(watch.firedEvent == first)

            _ = try await zk.sync("/n")  // maybe another member: the event was for the first write, read the second too
            let (data, _, fresh) = try await zk.getDataWatching("/n")
            #expect(data == bytes("2"))
            #expect(fresh.firedEvent == nil)
            try await zk.setData("/n", data: bytes("3"))
            #expect(try await awaitEvent(fresh) == .synced(.nodeDataChanged, "/n"))
            #expect(try await watch.event() == first)
        }
    }

    @Test("several waiters on one path share one server watch and all get the event")
    func sharedWatch() async throws {
        try await withTestClient("w-shared") { zk, context in
            try await zk.create("/n")
            let (_, _, a) = try await zk.getDataWatching("/n")
            let (_, _, b) = try await zk.getDataWatching("/n")
            let (_, c) = try await zk.existsWatching("/n")
            // Two tasks waiting on the same watch value, plus the other watches.
            async let waitA1 = awaitEvent(a)
            async let waitA2 = awaitEvent(a)
            async let waitB = awaitEvent(b)
            async let waitC = awaitEvent(c)
            try await withOtherClient(context) { other in _ = try await other.setData("/n", data: bytes("x")) }
            let expected = WatchedEvent.synced(.nodeDataChanged, "/n")
            let events = try await [waitA1, waitA2, waitB, waitC]
            #expect(events == Array(repeating: expected, count: 4))
            // The single server-side watch was consumed by the one notification.
            #expect(await zkErrorCode { try await zk.checkWatches("/n", type: .data) } == .noWatcher)
        }
    }

    @Test("a watch event is delivered before the reply of a later read that observes a later write", arguments: [25])
    func eventBeforeLaterReply(rounds: Int) async throws {
        try await withTestClient("w-order") { zk, context in
            try await zk.create("/n")
            try await withOtherClient(context) { writer in
                for round in 0..<rounds {
                    let (_, _, watch) = try await zk.getDataWatching("/n")
                    let marker = try ZNodePath("/later-\(round)")
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            // Read until the later write is visible, then look at the watch at once.
                            let deadline = ContinuousClock.now + .seconds(10)
                            while try await zk.exists(marker) == nil {
                                guard ContinuousClock.now < deadline else {
                                    throw TimeoutError(duration: .seconds(10), what: "\(marker) never appeared")
                                }
                            }
                            let fired = watch.firedEvent
                            #expect(fired == .synced(.nodeDataChanged, "/n"), "round \(round)")
                        }
                        group.addTask {
                            try await writer.setData("/n", data: bytes("\(round)"))
                            try await writer.create(marker)
                        }
                        try await group.waitForAll()
                    }
                }
            }
        }
    }

    @Test("a persistent watch gets every event type for its path, repeatedly")
    func persistentWatch() async throws {
        try await withTestClient("w-persist") { zk, context in
            let watch = try await zk.addWatch("/p", mode: .persistent)
            let (log, task) = EventLog.collecting(watch)
            defer { task.cancel() }
            try await withOtherClient(context) { other in
                try await other.create("/p")
                try await other.setData("/p", data: bytes("1"))
                try await other.create("/p/c")
                try await other.setData("/p/c", data: bytes("ignored: not the watched path"))
                try await other.delete("/p/c")
                try await other.setData("/p", data: bytes("2"))
                try await other.delete("/p")
                try await other.create("/p")
            }
            let expected: [WatchedEvent] = [
                .synced(.nodeCreated, "/p"), .synced(.nodeDataChanged, "/p"),
                .synced(.nodeChildrenChanged, "/p"), .synced(.nodeChildrenChanged, "/p"),
                .synced(.nodeDataChanged, "/p"), .synced(.nodeDeleted, "/p"), .synced(.nodeCreated, "/p"),
            ]
            #expect(try await log.waitFor(count: expected.count) == expected)
            // Still armed after all that.
            try await zk.checkWatches("/p", type: .data)
            try await zk.setData("/p", data: bytes("3"))
            #expect(try await log.waitFor(count: expected.count + 1).last == .synced(.nodeDataChanged, "/p"))
        }
    }

    @Test("a persistent-recursive watch sees created/deleted/dataChanged in the subtree, never childrenChanged")
    func persistentRecursiveWatch() async throws {
        try await withTestClient("w-recursive") { zk, context in
            try await zk.create("/r")
            try await zk.create("/outside")
            let watch = try await zk.addWatch("/r", mode: .persistentRecursive)
            let (log, task) = EventLog.collecting(watch)
            defer { task.cancel() }
            try await withOtherClient(context) { other in
                try await other.create("/r/a")
                try await other.setData("/r/a", data: bytes("1"))
                try await other.create("/r/a/b")
                try await other.setData("/outside", data: bytes("not watched"))
                try await other.setData("/r", data: bytes("2"))
                try await other.delete("/r/a/b")
                try await other.delete("/r/a")
                try await other.create("/r/last")
            }
            let expected: [WatchedEvent] = [
                .synced(.nodeCreated, "/r/a"), .synced(.nodeDataChanged, "/r/a"), .synced(.nodeCreated, "/r/a/b"),
                .synced(.nodeDataChanged, "/r"), .synced(.nodeDeleted, "/r/a/b"), .synced(.nodeDeleted, "/r/a"),
                .synced(.nodeCreated, "/r/last"),
            ]
            // Events arrive in order, so any childrenChanged would show up before the last one.
            #expect(try await log.waitFor(count: expected.count) == expected)
            #expect(!log.snapshot.contains { $0.type == .nodeChildrenChanged })
        }
    }

    @Test("ending the iteration of a persistent watch removes it from the server")
    func endingIterationRemovesWatch() async throws {
        try await withTestClient("w-end") { zk, context in
            try await zk.create("/p")
            // Break out of the loop; the watch and its iterator die with this scope.
            @Sendable func firstEvent() async throws -> WatchedEvent? {
                let watch = try await zk.addWatch("/p", mode: .persistent)
                try await zk.checkWatches("/p", type: .data)
                try await zk.setData("/p", data: bytes("1"))
                for try await event in watch { return event }
                return nil
            }
            let first = try await withTimeout(.seconds(10)) { try await firstEvent() }
            #expect(first == .synced(.nodeDataChanged, "/p"))
            try await eventually(within: .seconds(10)) {
                await zkErrorCode { try await zk.checkWatches("/p", type: .any) } == .noWatcher
            }

            // Cancelling the consuming task ends the iteration too.
            let watch = try await zk.addWatch("/p", mode: .persistentRecursive)
            let (log, task) = EventLog.collecting(watch)
            try await zk.setData("/p", data: bytes("2"))
            #expect(try await log.waitFor(count: 1) == [.synced(.nodeDataChanged, "/p")])
            task.cancel()
            try await eventually(within: .seconds(10)) {
                await zkErrorCode { try await zk.checkWatches("/p", type: .any) } == .noWatcher
            }
            try await withOtherClient(context) { other in _ = try await other.setData("/p", data: bytes("3")) }
            // Nothing more is delivered (the server has no watch left, checked above).
            #expect(log.snapshot == [.synced(.nodeDataChanged, "/p")])
        }
    }

    @Test("removeWatches(.data) fires the one-shot watch with DataWatchRemoved")
    func removeDataWatch() async throws {
        try await withTestClient("w-remove") { zk, _ in
            try await zk.create("/n")
            let (_, _, data) = try await zk.getDataWatching("/n")
            let (_, _, children) = try await zk.getChildrenWatching("/n")
            try await zk.removeWatches("/n", type: .data)
            #expect(try await awaitEvent(data) == .synced(.dataWatchRemoved, "/n"))
            #expect(children.firedEvent == nil)
            #expect(await zkErrorCode { try await zk.checkWatches("/n", type: .data) } == .noWatcher)
            try await zk.checkWatches("/n", type: .children)
            try await zk.removeWatches("/n", type: .children)
            #expect(try await awaitEvent(children) == .synced(.childWatchRemoved, "/n"))
            #expect(await zkErrorCode { try await zk.checkWatches("/n", type: .any) } == .noWatcher)
        }
    }

    @Test("checkWatches and removeWatches on a path without a watch throw noWatcher")
    func noWatcher() async throws {
        try await withTestClient("w-none") { zk, _ in
            try await zk.create("/n")
            for type in [WatcherType.data, .children, .any] {
                #expect(await zkErrorCode { try await zk.checkWatches("/n", type: type) } == .noWatcher)
                #expect(await zkErrorCode { try await zk.removeWatches("/n", type: type) } == .noWatcher)
            }
            #expect(await zkErrorCode { try await zk.checkWatches("/missing", type: .data) } == .noWatcher)
            let error = await #expect(throws: ZooKeeperError.self) { try await zk.checkWatches("/n", type: .data) }
            #expect(error?.path == "/n")
        }
    }

    @Test("watch events under a chroot carry chroot-relative paths, also for a recursive watch on /")
    func chrootRelativePaths() async throws {
        try await withTestClient("w-chroot") { zk, context in
            #expect(context.chroot.count > 1)
            let root = try await zk.addWatch("/", mode: .persistentRecursive)
            let (log, task) = EventLog.collecting(root)
            defer { task.cancel() }
            // Apache 3.8 keeps one watch mode per session and path (ZOOKEEPER-4466, fixed in 3.9): a
            // one-shot data watch on "/" would turn this session's recursive watch on "/" into a
            // one-shot one. So the data watch on "/" belongs to another session; a child watch is
            // kept apart on the server and can share the session.
            let (_, _, rootChildren) = try await zk.getChildrenWatching("/")
            let (_, created) = try await zk.existsWatching("/x")
            try await withOtherClient(context) { other in
                let (_, onRoot) = try await other.existsWatching("/")
                try await other.create("/x")
                try await other.create("/x/y", data: bytes("1"))
                try await other.setData("/", data: bytes("root"))
                #expect(try await awaitEvent(onRoot) == .synced(.nodeDataChanged, "/"))
            }
            #expect(try await awaitEvent(created) == .synced(.nodeCreated, "/x"))
            #expect(try await awaitEvent(rootChildren) == .synced(.nodeChildrenChanged, "/"))
            #expect(try await log.waitFor(count: 3) == [
                .synced(.nodeCreated, "/x"), .synced(.nodeCreated, "/x/y"), .synced(.nodeDataChanged, "/"),
            ])
        }
    }
}
