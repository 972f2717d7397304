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

    @Test("a partitioned withLock body is cancelled before another session acquires (50 repetitions)",
          .timeLimit(.minutes(5)),
          arguments: PartitionTarget.allCases, [SuspensionPolicy.cancelOnPresumedExpiry, .cancelOnSuspension])
    func cancellationBeforeTakeover(_ target: PartitionTarget, _ policy: SuspensionPolicy) async throws {
        // The first `swift test` pass runs every target; the Apache pass of .ci/run need not repeat it.
        guard RecipeServer.targetIsEmbedded else { return }
        try await target.withServers(tickTime: Self.tickTime) { connectString in
            var margins: [Duration] = []
            var failures: [String] = []
            var started = 0
            while started < Self.repetitions {
                let batch = min(Self.concurrency, Self.repetitions - started)
                let outcomes = try await withThrowingTaskGroup(of: Repetition.Outcome.self) { group in
                    for index in started..<(started + batch) {
                        group.addTask { try await Repetition(index: index, connectString: connectString, policy: policy).run() }
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
            print("partition safety [\(target), \(policy)]: \(margins.count)/\(Self.repetitions) repetitions safe; cancellation → takeover margin \(summary)")
            #expect(failures.isEmpty, "unsafe repetitions on \(target): \(failures)")
            #expect(margins.count == Self.repetitions)
        }
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
            let server = try await EmbeddedServer.start(configuration: configuration, inMemory: true)
            do { try await body(server.connectString) } catch {
                await server.stop()
                throw error
            }
            await server.stop()
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
            let ensemble = try await ApacheEnsemble.start(tickTime: tickTime)
            do { try await body(ensemble.connectString) } catch {
                await ensemble.stop()
                throw error
            }
            await ensemble.stop()
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
private struct Repetition {
    enum Outcome: Sendable {
        /// The contender acquired this long after the holder's body had seen cancellation.
        case margin(Duration)
        case unsafe(String)
    }

    let index: Int
    let connectString: String
    let policy: SuspensionPolicy

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
        let path = try ZNodePath("/partition-safety/lock-\(index)-\(UInt32.random(in: 0 ... .max))")

        let cancelledAt = Mutex<ContinuousClock.Instant?>(nil)
        let (held, heldSignal) = AsyncStream.makeStream(of: Void.self)
        let holding = Task {
            var mutex = DistributedMutex(client: holder, path: path)
            mutex.suspensionPolicy = policy
            return try await mutex.withLock { _ in
                heldSignal.yield()
                do { try await suspendUntilCancelled() } catch {}
                cancelledAt.withLock { $0 = .now }
                throw CancellationError()
            }
        }
        try await withTimeout(.seconds(15)) { for await _ in held { return } }

        // The contender queues behind the holder (its node exists) before the link stalls.
        let acquiring = Task { () -> ContinuousClock.Instant in
            let lease = try await DistributedMutex(client: contender, path: path).acquire(timeout: .seconds(30))
            let acquiredAt = ContinuousClock.now
            try await lease.release()
            return acquiredAt
        }
        try await eventually(within: .seconds(10)) { (try? await contender.getChildren(path).count) == 2 }

        proxies.stall()
        let acquiredAt = try await acquiring.value
        // The holder learns of its expiry only once the link heals; its withLock then finishes.
        proxies.heal()
        let result = await holding.result
        guard let cancelled = cancelledAt.withLock({ $0 }), cancelled < acquiredAt else {
            let when = cancelledAt.withLock { $0 }.map { "\(acquiredAt.duration(to: $0)) after the takeover" } ?? "never"
            return .unsafe("repetition \(index): the holder's body saw cancellation \(when)")
        }
        guard case let .failure(error) = result, let lockError = error as? LockError, lockError == .leaseLost else {
            return .unsafe("repetition \(index): withLock ended with \(result), not LockError.leaseLost")
        }
        return .margin(cancelled.duration(to: acquiredAt))
    }
}
