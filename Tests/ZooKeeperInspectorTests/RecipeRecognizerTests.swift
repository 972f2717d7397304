import Testing
import ZooKeeperHTTP
import ZooKeeperInspector
import ZooKeeperProtocol

/// Builds snapshots by hand: recognition is pure, so every layout is checked without a server.
private struct TreeBuilder {
    var entries: [ZNodeEntry] = [ZNodeEntry(path: "/")]
    var zxid: Int64 = 0x100

    /// A node; ephemeral when `session` is non-zero. Parents must be added first.
    @discardableResult
    mutating func add(_ path: String, _ data: [UInt8] = [], session: Int64 = 0, ctime: Int64 = 1_000) -> Int64 {
        zxid += 1
        entries.append(ZNodeEntry(path: path, data: data, stat: Stat(czxid: zxid, mzxid: zxid, ctime: ctime, mtime: ctime,
                                                                    ephemeralOwner: session, dataLength: Int32(data.count))))
        return zxid
    }

    mutating func add(_ path: String, text: String, session: Int64 = 0, ctime: Int64 = 1_000) {
        add(path, Array(text.utf8), session: session, ctime: ctime)
    }

    func recipes(now: Int64 = 10_000) -> [RecognisedRecipe] {
        RecipeRecognizer(snapshot: TreeSnapshot(entries), now: now).recognise()
    }
}

private let uuidA = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
private let uuidB = "1b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
private let uuidC = "2b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"

@Suite struct RecipeRecognizerTests {
    @Test func mutexHolderWaitersInOrderAndFencingToken() throws {
        var tree = TreeBuilder()
        tree.add("/locks")
        tree.add("/locks/orders")
        // Created out of name order: the sequence after `lock-` decides, not the UUID prefix.
        tree.add("/locks/orders/_c_\(uuidC)-lock-0000000002", session: 0x33, ctime: 3_000)
        let holderZxid = tree.add("/locks/orders/_c_\(uuidB)-lock-0000000000", session: 0x11, ctime: 1_000)
        tree.add("/locks/orders/_c_\(uuidA)-lock-0000000001", session: 0x22, ctime: 2_000)
        let recipes = tree.recipes(now: 11_000)
        let lock = try #require(recipes.first { $0.path == "/locks/orders" })
        #expect(lock.kind == .lock)
        #expect(lock.holders.map(\.sequence) == [0])
        #expect(lock.waiters.map(\.sequence) == [1, 2])
        #expect(lock.holders.first?.session == 0x11)
        #expect(lock.fact("fencingToken") == .string("0x" + String(holderZxid, radix: 16)))
        #expect(lock.fact("ownerSession") == .string("0x11"))
        #expect(lock.fact("heldForMs") == .int(10_000))
        #expect(recipes.count == 1, "the parent /locks is no recipe")
    }

    @Test func nodesMerelyNamedLikeContendersAreNoLock() throws {
        var tree = TreeBuilder()
        tree.add("/lock-demo-052cbbdc")
        tree.add("/lock-demo-052cbbdc/lock")
        tree.add("/lock-demo-052cbbdc/lock/_c_\(uuidA)-lock-0000000001", session: 1)
        tree.add("/lock-demo-052cbbdc/lock/not-a-contender")
        tree.add("/latch-notes")
        let recipes = tree.recipes()
        #expect(recipes.map(\.path) == ["/lock-demo-052cbbdc/lock"], "the root is no lock, its children only named so")
        #expect(recipes.first?.holders.map(\.sequence) == [1])
        #expect(recipes.first?.waiters.isEmpty == true, "unrelated children are no waiters")
    }

    @Test func kazooLocksAreLocksToo() throws {
        var tree = TreeBuilder()
        tree.add("/k")
        tree.add("/k/9f0e1d2c3b4a59687766554433221100__lock__0000000001", session: 2)
        tree.add("/k/00112233445566778899aabbccddeeff__lock__0000000000", session: 1)
        let lock = try #require(tree.recipes().first)
        #expect(lock.kind == .lock && lock.flavour == "kazoo")
        #expect(lock.holders.map(\.session) == [1])
        #expect(lock.waiters.map(\.session) == [2])
    }

    @Test func readWriteLockReadersShareUntilTheFirstWriter() throws {
        var tree = TreeBuilder()
        tree.add("/rw")
        tree.add("/rw/_c_\(uuidA)-__READ__0000000000", session: 1)
        tree.add("/rw/_c_\(uuidB)-__READ__0000000001", session: 2)
        tree.add("/rw/_c_\(uuidC)-__WRIT__0000000002", session: 3)
        tree.add("/rw/_c_\(uuidA)-__READ__0000000003", session: 4)
        let lock = try #require(tree.recipes().first)
        #expect(lock.kind == .readWriteLock)
        #expect(lock.holders.map(\.session) == [1, 2])
        #expect(lock.holders.map(\.role) == ["reader", "reader"])
        #expect(lock.waiters.map(\.session) == [3, 4])
        #expect(lock.waiters.map(\.role) == ["writer", "reader"])

        var writerFirst = TreeBuilder()
        writerFirst.add("/rw")
        writerFirst.add("/rw/_c_\(uuidA)-__WRIT__0000000000", session: 1)
        writerFirst.add("/rw/_c_\(uuidB)-__READ__0000000001", session: 2)
        let held = try #require(writerFirst.recipes().first)
        #expect(held.holders.map(\.session) == [1])
        #expect(held.waiters.map(\.session) == [2])
    }

    @Test func leaderLatchLowestSequenceLeads() throws {
        var tree = TreeBuilder()
        tree.add("/election")
        tree.add("/election/_c_\(uuidA)-latch-0000000004", text: "host-b", session: 2, ctime: 5_000)
        tree.add("/election/_c_\(uuidB)-latch-0000000003", text: "host-a", session: 1, ctime: 4_000)
        let latch = try #require(tree.recipes().first)
        #expect(latch.kind == .leaderLatch)
        #expect(latch.fact("leader") == .string("host-a"))
        #expect(latch.holders.map(\.text) == ["host-a"])
        #expect(latch.waiters.map(\.text) == ["host-b"])
        #expect(latch.fact("leaderForMs") == .int(6_000))
    }

    @Test func leaderSelectorIsALockWhoseContendersCarryIDs() throws {
        var tree = TreeBuilder()
        tree.add("/selector")
        tree.add("/selector/_c_\(uuidA)-lock-0000000001", text: "compactor-b", session: 2)
        tree.add("/selector/_c_\(uuidB)-lock-0000000000", text: "compactor-a", session: 1)
        tree.add("/curator-mutex")
        tree.add("/curator-mutex/_c_\(uuidC)-lock-0000000000", text: "10.0.0.7", session: 3)
        let recipes = tree.recipes()
        let selector = try #require(recipes.first { $0.path == "/selector" })
        #expect(selector.kind == .leaderSelector)
        #expect(selector.fact("leader") == .string("compactor-a"))
        #expect(selector.waiters.map(\.text) == ["compactor-b"])
        #expect(recipes.first { $0.path == "/curator-mutex" }?.kind == .lock, "a Curator mutex stores the host's address")
    }

    @Test func semaphoreLeasesHoldAndItsInternalLockIsNotASecondRecipe() throws {
        var tree = TreeBuilder()
        tree.add("/sem")
        tree.add("/sem/leases")
        tree.add("/sem/locks")
        tree.add("/sem/leases/_c_\(uuidA)-lease-0000000000", session: 1)
        tree.add("/sem/leases/_c_\(uuidB)-lease-0000000001", session: 2)
        tree.add("/sem/locks/_c_\(uuidC)-lock-0000000005", session: 3)
        let recipes = tree.recipes()
        #expect(recipes.count == 1)
        let semaphore = try #require(recipes.first)
        #expect(semaphore.kind == .semaphore && semaphore.path == "/sem")
        #expect(semaphore.holders.map(\.session) == [1, 2])
        #expect(semaphore.waiters.map(\.session) == [3])
    }

    @Test func queueDepthOldestAgeAndItemsBeingProcessed() throws {
        var tree = TreeBuilder()
        tree.add("/q")
        tree.add("/q/queue-0000000001", text: "b", ctime: 2_000)
        tree.add("/q/queue-0000000000", text: "a", ctime: 1_500)
        tree.add("/q/receipts")
        tree.add("/q/receipts/queue-0000000007", session: 9)
        let recipes = tree.recipes(now: 3_500)
        #expect(recipes.count == 1, "receipts/ belongs to the queue")
        let queue = try #require(recipes.first)
        #expect(queue.kind == .queue)
        #expect(queue.fact("depth") == .int(2))
        #expect(queue.fact("oldestAgeMs") == .int(2_000))
        #expect(queue.fact("processing") == .int(1))
        #expect(queue.items.map(\.text) == ["a", "b"])
    }

    @Test func doubleBarrierGroupAndBarrier() throws {
        var tree = TreeBuilder()
        tree.add("/dbl")
        tree.add("/dbl/\(uuidA)", session: 1)
        tree.add("/dbl/\(uuidB)", session: 2)
        tree.add("/dbl/ready")
        tree.add("/workers")
        tree.add("/workers/host-a", text: "up", session: 3)
        tree.add("/workers/host-b", text: "busy", session: 4)
        tree.add("/jobs")
        tree.add("/jobs/start-barrier")
        let recipes = tree.recipes()
        let barrier = try #require(recipes.first { $0.path == "/dbl" })
        #expect(barrier.kind == .doubleBarrier)
        #expect(barrier.fact("arrived") == .int(2) && barrier.fact("ready") == .bool(true))
        let group = try #require(recipes.first { $0.path == "/workers" })
        #expect(group.kind == .group)
        #expect(group.holders.map(\.text) == ["up", "busy"])
        #expect(recipes.first { $0.path == "/jobs/start-barrier" }?.kind == .barrier)
    }

    @Test func serviceDiscoveryInstancesWithTheirPayload() throws {
        var tree = TreeBuilder()
        tree.add("/services")
        tree.add("/services/api")
        let json = #"{"name":"api","id":"i-1","address":"10.0.0.5","port":8080,"payload":{"zone":"a"},"registrationTimeUTC":1700000000000,"serviceType":"DYNAMIC"}"#
        tree.add("/services/api/i-1", text: json, session: 5)
        let recipes = tree.recipes()
        #expect(recipes.count == 1, "the service and its instances belong to the discovery base")
        let discovery = try #require(recipes.first)
        #expect(discovery.kind == .serviceDiscovery && discovery.path == "/services")
        guard case let .array(services)? = discovery.fact("services") else {
            Issue.record("no services")
            return
        }
        #expect(services.first?["name"] == .string("api"))
        guard case let .array(instances)? = services.first?["instances"] else {
            Issue.record("no instances")
            return
        }
        #expect(instances.first?["instance"]?["payload"]?["zone"] == .string("a"))
    }

    @Test func countersAreBinaryLeavesOnly() throws {
        var tree = TreeBuilder()
        tree.add("/count", [0, 0, 0, 42])
        tree.add("/long", [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE])
        tree.add("/text", text: "1")
        tree.add("/word", text: "abcd")
        tree.add("/zookeeper")
        tree.add("/zookeeper/quota", [0, 0, 0, 1])
        let recipes = tree.recipes()
        #expect(recipes.map(\.path) == ["/count", "/long"])
        #expect(recipes.first?.fact("value") == .int(42))
        #expect(recipes.last?.fact("value") == .int(-2))
    }

    @Test func aRecipeEncodesForThePage() throws {
        var tree = TreeBuilder()
        tree.add("/l")
        tree.add("/l/_c_\(uuidA)-lock-0000000000", text: "10.0.0.1", session: 0x1F)
        let json = try #require(tree.recipes().first).json
        #expect(json["kind"] == .string("lock"))
        #expect(json.keys == ["kind", "path", "flavour", "holders", "waiters", "items", "facts"])
        #expect(json["holders"].flatMap { if case let .array(items) = $0 { return items.first } else { return nil } }?["session"] == .string("0x1f"))
    }
}
