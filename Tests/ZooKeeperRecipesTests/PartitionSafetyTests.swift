import Foundation
import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

/// The safety claim of the lock recipes under a *silent* partition (TCP open, nothing arrives): the
/// partitioned holder's body is cancelled before the ensemble can hand the lock to anyone else.
///
/// Each repetition: a holder (its connection through a ``FaultProxies``, one proxy per server) holds a
/// `DistributedMutex` in `withLock`; a contender (direct connection, its own session) queues behind it;
/// the holder's link is stalled both ways; the contender's acquire eventually returns (the holder's
/// session expired on the servers). On one monotonic clock (both in this process), the instant the
/// holder's body saw cancellation must come before the instant the contender's acquire returned — in
/// every repetition, on every target.
@Suite("Partition safety: cancellation before takeover", .serialized)
struct PartitionSafetyTests {
    /// ≥ 50 by the bar; `SHEPHERD_PARTITION_REPETITIONS` raises it for a soak.
    static let repetitions = ProcessInfo.processInfo.environment["SHEPHERD_PARTITION_REPETITIONS"].flatMap(Int.init) ?? 50
    /// Repetitions run this many at a time (separate lock paths, proxies and sessions): load makes the
    /// timing harsher, not easier.
    static let concurrency = 5
    static let sessionTimeout = Duration.milliseconds(1200)
    /// Short ticks so the servers accept a 1.2 s session (2–20 ticks) and expire it on time.
    static let tickTime = 200

    /// What each target runs: the mutex 50 times under both policies; the other bodies 10 times each.
    static let scenarios: [(kind: Repetition.Kind, repetitions: Int)] = [
        (.mutex(.cancelOnPresumedExpiry), repetitions),
        (.mutex(.cancelOnSuspension), repetitions),
        (.writeLock, 10),
        (.semaphore, 10),
        (.multiLock, 10),
        (.selector, 10),
    ]

    @Test("a partitioned holder's body (withLock, withLease, LeaderSelector) is cancelled before another session acquires",
          .timeLimit(.minutes(6)), arguments: PartitionTarget.allCases)
    func cancellationBeforeTakeover(_ target: PartitionTarget) async throws {
        // The first `swift test` pass runs every target; the Apache pass of .ci/run need not repeat it.
        guard RecipeServer.targetIsEmbedded else { return }
        try await target.withServers(tickTime: Self.tickTime) { connectString in
            for (kind, repetitions) in Self.scenarios {
                try await Self.measure(kind, repetitions: repetitions, target: target, connectString: connectString)
            }
        }
    }

    private static func measure(
        _ kind: Repetition.Kind, repetitions: Int, target: PartitionTarget, connectString: String
    ) async throws {
        var margins: [Duration] = []
        var failures: [String] = []
        var started = 0
        while started < repetitions {
            let batch = min(Self.concurrency, repetitions - started)
            let outcomes = try await withThrowingTaskGroup(of: Repetition.Outcome.self) { group in
                for index in started..<(started + batch) {
                    group.addTask { try await Repetition(index: index, connectString: connectString, kind: kind).run() }
                }
                var outcomes: [Repetition.Outcome] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            for outcome in outcomes {
                switch outcome {
                case let .margin(margin): margins.append(margin)
                case let .unsafe(text): failures.append(text)
                }
            }
            started += batch
        }
        let sorted = margins.sorted()
        let summary = sorted.isEmpty ? "none safe" :
            "min \(Self.ms(sorted.first!)), p50 \(Self.ms(sorted[sorted.count / 2])), max \(Self.ms(sorted.last!))"
        print("partition safety [\(target), \(kind)]: \(margins.count)/\(repetitions) repetitions safe; cancellation → takeover margin \(summary)")
        #expect(failures.isEmpty, "unsafe repetitions on \(target), \(kind): \(failures)")
        #expect(margins.count == repetitions)
    }

    static func ms(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return String(format: "%.1f ms", value)
    }
}

/// The servers a partition test runs against.
enum PartitionTarget: String, CaseIterable, Sendable, CustomStringConvertible {
    case embedded
    case apacheStandalone = "apache-standalone"
    case apacheEnsemble = "apache-ensemble"

    var description: String { rawValue }

    /// Starts this target with short ticks, runs `body` with its connect string, stops it.
    func withServers(tickTime: Int, _ body: (String) async throws -> Void) async throws {
        switch self {
        case .embedded:
            var configuration = EmbeddedServer.defaultConfiguration
            configuration.tickTime = tickTime
            try await withEmbeddedServer(configuration: configuration, inMemory: true) { server in
                try await body(server.connectString)
            }
        case .apacheStandalone:
            guard try Self.apacheAvailable() else { return }
            let server = try ApacheZooKeeper(configuration: .init(tickTime: tickTime))
            do {
                try await server.start()
                try await body(server.connectString)
            } catch {
                try? await server.stop()
                server.cleanup()
                throw error
            }
            try? await server.stop()
            server.cleanup()
        case .apacheEnsemble:
            guard try Self.apacheAvailable() else { return }
            try await withApacheEnsemble(tickTime: tickTime) { ensemble in
                try await body(ensemble.connectString)
            }
        }
    }

    /// Apache's jars are required in CI (.ci/run installs them); elsewhere their absence skips with a message.
    private static func apacheAvailable() throws -> Bool {
        if ApacheZooKeeper.isInstalled { return true }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            throw TestSupportError("Apache ZooKeeper's jars are missing in CI: \(ApacheZooKeeper.notInstalledMessage)")
        }
        print("skipped: \(ApacheZooKeeper.notInstalledMessage)")
        return false
    }
}

/// One holder, one contender, one stall.
struct Repetition {
    /// The body under test.
    enum Kind: Sendable, CustomStringConvertible {
        case mutex(SuspensionPolicy)
        /// The read/write lock's write half (cancelOnPresumedExpiry).
        case writeLock
        /// A one-lease semaphore's `withLease` (cancelOnPresumedExpiry).
        case semaphore
        /// A multi-lock over two paths (the default policy).
        case multiLock
        /// A `LeaderSelector` term (cancelled at suspension, as Curator's standard policy).
        case selector

        var description: String {
            switch self {
            case let .mutex(policy): "mutex, \(policy)"
            case .writeLock: "write lock, cancelOnPresumedExpiry"
            case .semaphore: "semaphore withLease, cancelOnPresumedExpiry"
            case .multiLock: "multi-lock, cancelOnSuspension"
            case .selector: "LeaderSelector"
            }
        }
    }

    enum Outcome: Sendable {
        /// The contender acquired this long after the holder's body had seen cancellation.
        case margin(Duration)
        case unsafe(String)
    }

    let index: Int
    let connectString: String
    let kind: Kind

    func run() async throws -> Outcome {
        let proxies = try FaultProxies(connectString: connectString)
        defer { proxies.stop() }
        var clients: [ZooKeeperClient] = []
        do {
            let outcome = try await run(proxies: proxies, clients: &clients)
            for client in clients { await client.close() }
            return outcome
        } catch {
            proxies.heal()
            for client in clients { await client.close() }
            throw error
        }
    }

    private func client(_ connectString: String) async throws -> ZooKeeperClient {
        var configuration = try ZooKeeperConfiguration(connectionString: connectString)
        configuration.sessionTimeout = PartitionSafetyTests.sessionTimeout
        configuration.initialConnectionTimeout = .seconds(20)
        return try await ZooKeeperClient.connect(configuration)
    }

    private func run(proxies: FaultProxies, clients: inout [ZooKeeperClient]) async throws -> Outcome {
        let holder = try await client(proxies.connectString)
        clients.append(holder)
        let contender = try await client(connectString)
        clients.append(contender)
        let root = try ZNodePath("/partition-safety/\(index)-\(UInt32.random(in: 0 ... .max))")

        let cancelledAt = Mutex<ContinuousClock.Instant?>(nil)
        let (held, heldSignal) = AsyncStream.makeStream(of: Void.self)
        // The holder's body: signal, run until cancelled, record when it saw the cancellation.
        let body: @Sendable () async throws -> Void = {
            heldSignal.yield()
            do { try await suspendUntilCancelled() } catch {}
            cancelledAt.withLock { $0 = .now }
            throw CancellationError()
        }
        let holding = try await startHolding(holder, root: root, body: body)
        try await withTimeout(.seconds(15)) { for await _ in held { return } }

        // The contender queues behind the holder (its node exists) before the link stalls.
        let (acquiredAt, waitingIn) = try await startContending(contender, root: root)
        try await eventually(within: .seconds(10)) { (try? await contender.getChildren(waitingIn).count) == 2 }

        proxies.stall()
        let acquired = try await acquiredAt()
        // The holder learns of its expiry only once the link heals; its call then finishes.
        proxies.heal()
        let result = await holding()
        guard let cancelled = cancelledAt.withLock({ $0 }), cancelled < acquired else {
            let when = cancelledAt.withLock { $0 }.map { "\(acquired.duration(to: $0)) after the takeover" } ?? "never"
            return .unsafe("repetition \(index): the holder's body saw cancellation \(when)")
        }
        if let result {
            guard case let .failure(error) = result, error as? LockError == .leaseLost else {
                return .unsafe("repetition \(index): the holder's call ended with \(result), not LockError.leaseLost")
            }
        }
        return .margin(cancelled.duration(to: acquired))
    }

    /// Starts the holder's body under this kind's recipe; returns how to wait for its call's end
    /// (nil result: the recipe reports no error, as a LeaderSelector term).
    private func startHolding(
        _ client: ZooKeeperClient, root: ZNodePath, body: @escaping @Sendable () async throws -> Void
    ) async throws -> @Sendable () async -> Result<Void, any Error>? {
        let task: Task<Void, any Error>
        switch kind {
        case let .mutex(policy):
            var mutex = DistributedMutex(client: client, path: root)
            mutex.suspensionPolicy = policy
            task = Task { [mutex] in try await mutex.withLock { _ in try await body() } }
        case .writeLock:
            var lock = DistributedReadWriteLock(client: client, path: root)
            lock.writeLock.suspensionPolicy = .cancelOnPresumedExpiry
            task = Task { [lock] in try await lock.writeLock.withLock { _ in try await body() } }
        case .semaphore:
            var semaphore = DistributedSemaphore(client: client, path: root, maxLeases: 1)
            semaphore.suspensionPolicy = .cancelOnPresumedExpiry
            task = Task { [semaphore] in try await semaphore.withLease { _ in try await body() } }
        case .multiLock:
            let lock = DistributedMultiLock(client: client, paths: [try root.appending("a"), try root.appending("b")])
            task = Task { try await lock.withLock { _ in try await body() } }
        case .selector:
            let selector = LeaderSelector(client: client, path: root)
            try await selector.start { _ in try await body() }
            return {
                await selector.close()
                return nil
            }
        }
        return { await task.result }
    }

    /// Starts the contender; returns how to wait for the instant it acquired, and the directory in
    /// which it waits (two children there: it is queued behind the holder).
    private func startContending(
        _ client: ZooKeeperClient, root: ZNodePath
    ) async throws -> (@Sendable () async throws -> ContinuousClock.Instant, ZNodePath) {
        func lease(_ acquire: @escaping @Sendable () async throws -> LockLease) -> @Sendable () async throws -> ContinuousClock.Instant {
            let task = Task { () -> ContinuousClock.Instant in
                let lease = try await acquire()
                let at = ContinuousClock.now
                try await lease.release()
                return at
            }
            return { try await task.value }
        }
        switch kind {
        case .mutex:
            let mutex = DistributedMutex(client: client, path: root)
            return (lease { try await mutex.acquire(timeout: .seconds(30)) }, root)
        case .writeLock:
            let lock = DistributedReadWriteLock(client: client, path: root)
            return (lease { try await lock.writeLock.acquire(timeout: .seconds(30)) }, root)
        case .semaphore:
            let semaphore = DistributedSemaphore(client: client, path: root, maxLeases: 1)
            return (lease { try await semaphore.acquire(timeout: .seconds(30)) }, try root.appending("leases"))
        case .multiLock:
            let first = try root.appending("a")
            let mutex = DistributedMutex(client: client, path: first)
            return (lease { try await mutex.acquire(timeout: .seconds(30)) }, first)
        case .selector:
            let (terms, termSignal) = AsyncStream.makeStream(of: ContinuousClock.Instant.self)
            let selector = LeaderSelector(client: client, path: root)
            try await selector.start { _ in termSignal.yield(.now) }
            return ({
                let at = try await withTimeout(.seconds(30)) { for await at in terms { return at }; throw CancellationError() }
                await selector.close()
                return at
            }, root)
        }
    }
}
