import ZooKeeperClient
import ZooKeeperRecipes

/// Counters: 3 workers each add 1 to a DistributedAtomicLong and to a SharedCount (read + trySetCount
/// until it succeeds), 12 times each, concurrently; the fault hits worker 0 a third of the way in.
struct CounterSuite {
    static let invariant = """
        no lost and no double increments: every successful increment's new value is unique (two increments \
        never both land on the same value), and the final value F satisfies S ≤ F ≤ S + A, where S counts \
        successful increments and A the attempts that threw (a write whose reply was lost throws \
        connectionLoss, documented: it may have landed; the worker then increments again); every worker \
        completes its increments; a SharedCount watcher's changes never go backwards and reach F
        """
    let workers = 3
    let rounds = 12

    private struct Tally: Sendable {
        var posts: [String: [Int64]] = [:]
        var ambiguous: [String: Int] = [:]
        var gaveUp = 0
    }

    func run(_ context: ScenarioContext) async throws {
        try await context.prepare()
        let longPath = try context.root.appending("long"), countPath = try context.root.appending("count")
        let tally = Shared(Tally())
        let slots = try await (0..<workers).asyncMap { _ in try await ClientSlot(context) }
        let watcher = SharedCount(client: try await context.client(), path: countPath, seedValue: 0)
        try await watcher.start()
        let seen = Shared<[Int32]>([])
        let changes = watcher.changes()
        let watching = Task { for await value in changes { seen.withLock { $0.append(value) } } }
        let done = Shared(0)
        let rounds = self.rounds
        try await withThrowingTaskGroup(of: Void.self) { group in
            for slot in slots {
                group.addTask {
                    for _ in 0..<rounds {
                        try await Self.incrementLong(slot, longPath, tally)
                        try await Self.incrementCount(slot, countPath, tally)
                        done.withLock { $0 += 1 }
                    }
                }
            }
            try await waitFor("a third of the increments", timeout: .seconds(30)) { done.value >= workers * rounds / 3 }
            try await context.injectFault(victim: slots[0].client)
            try await group.waitForAll()
        }
        try await context.verifyFault()
        let checker = try await context.client()
        let finalLong = try await DistributedAtomicLong(client: checker, path: longPath).get().postValue
        let finalCount = Int64(try await SharedCount(client: checker, path: countPath, seedValue: 0).read().value)
        let state = tally.value
        for (name, final) in [("atomic long", finalLong), ("shared count", finalCount)] {
            let posts = state.posts[name] ?? [], ambiguous = state.ambiguous[name] ?? 0
            let repeated = Dictionary(grouping: posts, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
            if !repeated.isEmpty { throw MatrixError("\(name): increments landed on the same value \(repeated.prefix(5)) (a lost update)") }
            if posts.count != workers * rounds { throw MatrixError("\(name): \(posts.count) increments succeeded, expected \(workers * rounds)") }
            if final < Int64(posts.count) || final > Int64(posts.count + ambiguous) {
                throw MatrixError("\(name): final \(final) outside [\(posts.count), \(posts.count + ambiguous)]")
            }
            if ambiguous > 0 { context.note("\(name): \(ambiguous) unknown outcome(s), \(final - Int64(posts.count)) landed") }
        }
        try await converge("the SharedCount watcher at the final value", timeout: context.sessionTimeout + .seconds(5)) {
            watcher.count == Int32(finalCount) ? nil : "watcher at \(watcher.count)"
        }
        await watcher.close()
        await watching.value
        let values = seen.value
        if let drop = zip(values, values.dropFirst()).first(where: { $0.1 < $0.0 }) {
            throw MatrixError("shared count's changes went back from \(drop.0) to \(drop.1)")
        }
        if state.gaveUp > 0 { context.note("\(state.gaveUp) attempt(s) gave up under contention and were repeated") }
    }

    private static func incrementLong(_ slot: ClientSlot, _ path: ZNodePath, _ tally: Shared<Tally>) async throws {
        while true {
            do {
                let result = try await DistributedAtomicLong(client: slot.client, path: path).increment()
                if result.succeeded {
                    tally.withLock { $0.posts["atomic long", default: []].append(result.postValue) }
                    return
                }
                tally.withLock { $0.gaveUp += 1 }
            } catch {
                tally.withLock { $0.ambiguous["atomic long", default: 0] += 1 }  // may have landed
                try await slot.recover(after: error)
            }
        }
    }

    private static func incrementCount(_ slot: ClientSlot, _ path: ZNodePath, _ tally: Shared<Tally>) async throws {
        while true {
            do {
                let count = SharedCount(client: slot.client, path: path, seedValue: 0)
                let current = try await count.read()
                if try await count.trySetCount(expected: current, newValue: current.value + 1) {
                    tally.withLock { $0.posts["shared count", default: []].append(Int64(current.value + 1)) }
                    return
                }
            } catch {
                tally.withLock { $0.ambiguous["shared count", default: 0] += 1 }
                try await slot.recover(after: error)
            }
        }
    }
}
