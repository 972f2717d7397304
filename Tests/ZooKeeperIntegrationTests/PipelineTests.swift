import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

@Suite("Pipelining, call order and cancellation", .enabled(if: integrationEnabled, integrationSkipReason), .timeLimit(.minutes(1)))
struct PipelineTests {
    @Test("2,000 concurrent creates then 10,000 concurrent reads on one client all get their own answer")
    func manyConcurrentRequests() async throws {
        try await withTestClient("pipe-many") { zk, _ in
            let nodes = 2_000
            let reads = 10_000
            try await zk.create("/n")
            let created = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for i in 0..<nodes {
                    group.addTask { (i, try await zk.create(try ZNodePath("/n/\(i)"), data: bytes("value-\(i)"))) }
                }
                var paths: [Int: String] = [:]
                for try await (i, path) in group { paths[i] = path }
                return paths
            }
            #expect(created.count == nodes)
            #expect(created.allSatisfy { $0.value == "/n/\($0.key)" })

            let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<reads {
                    group.addTask {
                        let node = i % nodes
                        if i % 5 == 0 {
                            // A mix of request types, each with its own reply shape.
                            let stat = try #require(try await zk.exists(try ZNodePath("/n/\(node)")))
                            return stat.dataLength == bytes("value-\(node)").count ? 0 : 1
                        }
                        let (data, stat) = try await zk.getData(try ZNodePath("/n/\(node)"))
                        return data == bytes("value-\(node)") && stat.version == 0 ? 0 : 1
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(mismatches == 0)
            #expect(try await zk.getChildren("/n").count == nodes)
            #expect(try await zk.getAllChildrenNumber("/n") == nodes)
            #expect(zk.connectionState == .connected)
        }
    }

    @Test("large and small requests from many tasks at once arrive intact, however the socket splits them")
    func largeRequestsFromManyTasks() async throws {
        try await withTestClient("pipe-large") { zk, _ in
            try await zk.create("/big")
            // 16 × 2 × 400 kB at once is more than a loopback socket takes: callers' frames are split between
            // what a caller writes itself and what the I/O thread sends, and must still arrive whole and in order.
            let size = 400_000
            let failures = try await withThrowingTaskGroup(of: Int.self) { group in
                for task in 0..<16 {
                    group.addTask {
                        let path = try ZNodePath("/big/\(task)")
                        let first = [UInt8](repeating: UInt8(task), count: size)
                        let second = [UInt8](repeating: UInt8(task + 100), count: size)
                        _ = try await zk.create(path, data: first)
                        async let small = zk.exists(path)
                        let stat = try await zk.setData(path, data: second)
                        let (data, _) = try await zk.getData(path)
                        let seen = try await small
                        return stat.version == 1 && data == second && seen != nil ? 0 : 1
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(failures == 0)
            #expect(zk.connectionState == .connected)
        }
    }

    @Test("calls started one after another in one task reach the server in call order")
    func callOrder() async throws {
        try await withTestClient("pipe-order") { zk, _ in
            try await zk.create("/q")
            // Task.immediate runs each call synchronously up to its first suspension, and the client
            // assigns the xid (and queues the frame) before suspending: so the calls are issued in
            // loop order without any of them awaiting the previous reply.
            let count = 500
            var tasks: [Task<String, any Error>] = []
            for i in 0..<count {
                tasks.append(Task.immediate {
                    try await zk.create("/q/item-", data: bytes("\(i)"), mode: .persistentSequential)
                })
            }
            var names: [String] = []
            for task in tasks { names.append(try await task.value) }
            let expected = (0..<count).map { "/q/item-" + String(repeating: "0", count: 10 - String($0).count) + String($0) }
            #expect(names == expected)
            let payloads = try await zk.multiRead(names.map { .getData(try ZNodePath($0)) })
            #expect(payloads.enumerated().allSatisfy { i, result in
                if case let .data(data, _) = result { return data == bytes("\(i)") } else { return false }
            })

            // Different request types in one task, each awaited: writes apply in call order.
            try await zk.create("/v", data: bytes("0"))
            for i in 1...50 {
                let stat = try await zk.setData("/v", data: bytes("\(i)"))
                #expect(stat.version == Int32(i))
            }
            #expect(try await zk.getData("/v").data == bytes("50"))
        }
    }

    @Test("cancelling thousands of waiting requests leaves the client healthy")
    func cancellation() async throws {
        try await withTestClient("pipe-cancel") { zk, _ in
            let states = StateLog(zk)
            defer { states.stop() }
            try await zk.create("/c", data: bytes("start"))
            for i in 0..<10 { try await zk.create(try ZNodePath("/r\(i)"), data: bytes("r\(i)")) }
            let zxidBefore = zk.lastZxidSeen
            #expect(zxidBefore > 0)

            // 1. Cancelled at once: most never even wait.
            let immediate = await Self.issueAndCancel(zk, count: 5_000, cancelAfterFirstReply: false)
            // 2. Cancelled from outside once replies are flowing: many are waiting in the pipeline.
            let midway = await Self.issueAndCancel(zk, count: 5_000, cancelAfterFirstReply: true)
            for outcome in [immediate, midway] {
                #expect(outcome.other.isEmpty, "unexpected errors: \(outcome.other.prefix(3))")
                #expect(outcome.succeeded + outcome.cancelled == 5_000)
            }
            #expect(midway.succeeded >= 1)
            // Something really was cancelled (else this test proves nothing).
            #expect(immediate.cancelled + midway.cancelled > 0, "immediate \(immediate), midway \(midway)")

            // The FIFO still matches replies to requests: each read gets its own node.
            let reads = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<200 {
                    group.addTask { try await zk.getData(try ZNodePath("/r\(i % 10)")).data == bytes("r\(i % 10)") }
                }
                return try await group.reduce(true) { $0 && $1 }
            }
            #expect(reads)

            // Writes that were cancelled may still have been applied: the version says how many were.
            let (_, stat) = try await zk.getData("/c")
            #expect(stat.version >= Int32(midway.succeeded) && stat.version <= 10_000)
            let next = try await zk.setData("/c", data: bytes("after"), version: stat.version)
            #expect(next.version == stat.version + 1)
            let created = try await zk.createReturningStat("/after").stat
            #expect(try await zk.getData("/after").stat == created)

            #expect(zk.connectionState == .connected)
            try await eventually(within: .seconds(5)) { !states.snapshot.isEmpty }
            #expect(states.snapshot == [.connected])
            // lastZxidSeen only moves forward and covers every write this session saw applied.
            #expect(zk.lastZxidSeen >= created.czxid)
            #expect(created.czxid > next.mzxid && next.mzxid > zxidBefore)
        }
    }

    struct Outcome: Sendable {
        var succeeded = 0
        var cancelled = 0
        var other: [String] = []
    }

    /// Issues `count` setData calls in a task group and cancels it, at once or after the first reply.
    static func issueAndCancel(_ zk: ZooKeeperClient, count: Int, cancelAfterFirstReply: Bool) async -> Outcome {
        let replies = ReplyCounter()
        let task = Task {
            await withTaskGroup(of: Result<Void, any Error>.self) { group in
                for i in 0..<count {
                    group.addTask {
                        do {
                            try await zk.setData("/c", data: bytes("\(i)"))
                            replies.value.add(1, ordering: .relaxed)
                            return .success(())
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                if !cancelAfterFirstReply { group.cancelAll() }
                var outcome = Outcome()
                for await result in group {
                    switch result {
                    case .success: outcome.succeeded += 1
                    case .failure(is CancellationError): outcome.cancelled += 1
                    case let .failure(error): outcome.other.append("\(error)")
                    }
                }
                return outcome
            }
        }
        if cancelAfterFirstReply {
            // Bounded wait for the pipeline to be flowing, then cancel the whole batch.
            try? await eventually(within: .seconds(10), pollEvery: .milliseconds(1)) { replies.value.load(ordering: .relaxed) > 0 }
            task.cancel()
        }
        return await task.value
    }

    @Test("pipeline(): requests sent back to back run in order; each has its own result; none is atomic with another")
    func explicitPipeline() async throws {
        try await withTestClient("pipe-explicit") { zk, _ in
            try await zk.create("/p")
            let results = try await zk.pipeline([
                .create("/p/a", data: bytes("x")),
                .getChildren("/p"),
                .create("/missing/b"),
                .setData("/p/a", data: bytes("y"), version: 0),
                .getData("/p/a"),
                .exists("/p/none"),
                .create("/p/seq-", mode: .persistentSequential),
                .delete("/p/a", version: 7),
                .delete("/p/a"),
                .getChildren("/p"),
            ])
            #expect(results.count == 10)
            guard case .success(.created(let path, let stat)) = results[0] else { Issue.record("\(results[0])"); return }
            #expect(path == "/p/a" && stat.dataLength == 1)
            #expect(try results[1].get() == .children(["a"]), "the listing runs after the create")
            #expect(throws: ZooKeeperError.self) { try results[2].get() }
            #expect((try? results[2].get()) == nil)
            if case .failure(let error) = results[2] { #expect(error.code == .noNode) }
            guard case .success(.stat(let setStat)) = results[3] else { Issue.record("\(results[3])"); return }
            #expect(setStat?.version == 1)
            guard case .success(.data(let data, _)) = results[4] else { Issue.record("\(results[4])"); return }
            #expect(data == bytes("y"))
            #expect(try results[5].get() == .stat(nil))
            guard case .success(.created(let sequential, _)) = results[6] else { Issue.record("\(results[6])"); return }
            #expect(sequential.hasPrefix("/p/seq-") && sequential.count == "/p/seq-".count + 10)
            if case .failure(let error) = results[7] { #expect(error.code == .badVersion) } else { Issue.record("\(results[7])") }
            #expect(try results[8].get() == .deleted)
            guard case .success(.children(let last)) = results[9] else { Issue.record("\(results[9])"); return }
            #expect(last == [String(sequential.dropFirst(3))])
        }
    }

    @Test("pipeline(): invalid arguments throw before anything is sent")
    func pipelineInvalidArguments() async throws {
        try await withTestClient("pipe-invalid") { zk, _ in
            await #expect(throws: ZooKeeperError.self) {
                _ = try await zk.pipeline([.create("/ok"), .create("/bad", acl: [])])
            }
            let ok = try await zk.exists("/ok")
            #expect(ok == nil, "nothing was sent")
        }
    }
}

final class ReplyCounter: Sendable {
    let value = Atomic<Int>(0)
}

/// Records every connection state a client reports, from subscription on.
final class StateLog: Sendable {
    private let states = Mutex<[ConnectionState]>([])
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    init(_ client: ZooKeeperClient) {
        let stream = client.connectionStates()
        let task = Task {
            for await state in stream { self.states.withLock { $0.append(state) } }
        }
        self.task.withLock { $0 = task }
    }

    var snapshot: [ConnectionState] { states.withLock { $0 } }

    func stop() { task.withLock { $0?.cancel() } }
}
