import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

/// Cleanup while no server answers (every server blackholed: TCP open, nothing arrives): deadlines and
/// cancellation are honoured, leftover deletes go on in the background and finish once a server answers.
@Suite("Cleanup while the ensemble is blackholed", .serialized, .timeLimit(.minutes(3)))
struct BlackholeCleanupTests {
    static let sessionTimeout = Duration.seconds(3)

    /// A holder (direct) and a victim whose link runs through proxies; `body` stalls them when it likes.
    private func withBlackholeable(
        _ target: PartitionTarget,
        _ body: @escaping @Sendable (_ direct: ZooKeeperClient, _ victim: ZooKeeperClient, _ proxies: FaultProxies) async throws -> Void
    ) async throws {
        guard RecipeServer.targetIsEmbedded else { return }  // runs every target itself (see PartitionSafetyTests)
        try await target.withServers(tickTime: 250) { connectString in
            let proxies = try FaultProxies(connectString: connectString)
            var clients: [ZooKeeperClient] = []
            func client(_ connect: String) async throws -> ZooKeeperClient {
                var configuration = try ZooKeeperConfiguration(connectionString: connect)
                configuration.sessionTimeout = Self.sessionTimeout
                let client = try await ZooKeeperClient.connect(configuration)
                clients.append(client)
                return client
            }
            do {
                try await body(try await client(connectString), try await client(proxies.connectString), proxies)
            } catch {
                proxies.heal()
                for client in clients { await client.close() }
                proxies.stop()
                throw error
            }
            proxies.heal()
            for client in clients { await client.close() }
            proxies.stop()
        }
    }

    @Test("acquire(timeout:) returns by its deadline (+ the 500 ms cleanup grace) while no server answers; its cleanup finishes after the heal",
          arguments: [PartitionTarget.embedded, .apacheStandalone])
    func acquireHonoursItsTimeout(_ target: PartitionTarget) async throws {
        try await withBlackholeable(target) { direct, victim, proxies in
            let path = ZNodePath("/blackhole/lock")
            let held = try await DistributedMutex(client: direct, path: path).acquire()
            proxies.stall()
            let started = ContinuousClock.now
            // Before: the create's retries and the cleanup's wait outlasted the timeout until the heal.
            let error = await #expect(throws: (any Error).self) {
                try await withTimeout(.seconds(10)) { _ = try await DistributedMutex(client: victim, path: path).acquire(timeout: .seconds(1)) }
            }
            #expect(error as? LockError == .timedOut, "got \(String(describing: error))")
            #expect(started.duration(to: .now) < .milliseconds(2_500))
            proxies.heal()
            try await eventually(within: .seconds(10)) { try await victim.getChildren(path).count == 1 }
            try await held.release()
        }
    }

    @Test("withLock returns (lease lost) at presumed expiry when its release cannot reach any server",
          arguments: [PartitionTarget.embedded, .apacheStandalone])
    func withLockDoesNotHangInRelease(_ target: PartitionTarget) async throws {
        try await withBlackholeable(target) { _, victim, proxies in
            let path = ZNodePath("/blackhole/release")
            let stalledAt = Mutex<ContinuousClock.Instant?>(nil)
            var configured = DistributedMutex(client: victim, path: path)
            configured.suspensionPolicy = .cancelOnPresumedExpiry
            let mutex = configured
            // Before: the release's guaranteed delete waited for the heal (or for ever).
            let outcome = await #expect(throws: (any Error).self) {
                try await withTimeout(.seconds(20)) {
                    try await mutex.withLock { _ in
                        proxies.stall()
                        stalledAt.withLock { $0 = .now }
                        try await suspendUntilCancelled()
                    }
                }
            }
            #expect(outcome as? LockError == .leaseLost, "got \(String(describing: outcome))")
            let stalled = try #require(stalledAt.withLock { $0 })
            #expect(stalled.duration(to: .now) < Self.sessionTimeout + .seconds(1))
        }
    }

    @Test("a cancelled acquire returns at once even while its cleanup cannot reach any server")
    func cancelledAcquireReturns() async throws {
        try await withBlackholeable(.embedded) { direct, victim, proxies in
            let path = ZNodePath("/blackhole/cancel")
            let held = try await DistributedMutex(client: direct, path: path).acquire()
            proxies.stall()
            let acquiring = Task { try await DistributedMutex(client: victim, path: path).acquire() }
            // The acquire's request sits in the dead link until the client gives the connection up.
            let states = victim.connectionStates()
            try await withTimeout(.seconds(10)) { for await state in states where state == .suspended { return } }
            let cancelledAt = ContinuousClock.now
            acquiring.cancel()
            // Before: the cleanup of the cancelled acquire waited until the session ended (never, here).
            _ = try await withTimeout(.seconds(10)) { await acquiring.result }
            #expect(cancelledAt.duration(to: .now) < .seconds(1))  // at most the 500 ms cleanup grace
            proxies.heal()
            try await eventually(within: .seconds(10)) { RecipeCleanup.pendingDeletes == 0 }
            try await held.release()
        }
    }

    @Test("LeaderLatch.close() returns by presumed expiry while no server answers")
    func latchCloseReturns() async throws {
        try await withBlackholeable(.embedded) { _, victim, proxies in
            let latch = LeaderLatch(client: victim, path: ZNodePath("/blackhole/latch"))
            try await latch.start()
            try await latch.waitForLeadership(timeout: .seconds(10))
            proxies.stall()
            let closing = ContinuousClock.now
            try await withTimeout(.seconds(20)) { await latch.close() }
            #expect(closing.duration(to: .now) < Self.sessionTimeout + .seconds(1))
        }
    }
}
