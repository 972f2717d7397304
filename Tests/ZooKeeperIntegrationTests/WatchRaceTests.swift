import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// Watch registrations racing cancellation and the client's own clean-up `removeWatches`.
///
/// "No watch on the server" is asked with `checkWatches(.any)`: Apache 3.8 answers it for *any*
/// session's watch on the path (our server does the same), and each test has a chroot of its own.
@Suite("Watch races", .enabled(if: integrationEnabled, integrationSkipReason), .timeLimit(.minutes(2)))
struct WatchRaceTests {
    @Test("a cancelled addWatch whose reply arrives late leaves no watch on the server, not even after a reconnect")
    func cancelledAddWatchLeavesNoWatch() async throws {
        try await withTestClient("w-cancel-add") { zk, context in
            try await zk.create("/p")
            // Replies are held back by a proxy, so the addWatch is still in flight when it is cancelled.
            try await withProxiedClient(context, near: zk) { proxy, client in
                proxy.stall(.serverToClient)
                let adding = Task { try await client.addWatch("/p", mode: .persistent) }
                // The server has applied it (seen from the other session): only its reply is pending.
                try await eventually(within: .seconds(10)) {
                    await zkErrorCode { try await zk.checkWatches("/p", type: .any) } == nil
                }
                adding.cancel()
                // The caller is released at once, without waiting for the held-back reply.
                let outcome = try await withTimeout(.seconds(5)) { await adding.result }
                #expect(throws: CancellationError.self) { try outcome.get() }
                proxy.heal()

                // Once the late reply is in, the client takes the watch it no longer wants off the server.
                try await eventually(within: .seconds(5)) {
                    await zkErrorCode { try await zk.checkWatches("/p", type: .any) } == .noWatcher
                }
                // And does not re-add it with SetWatches2 on the next connection.
                let states = client.connectionStates()
                proxy.resetAll()
                try await waitForState(states, within: .seconds(10), "reconnected") { $0 == .reconnected }
                _ = try await client.exists("/p")  // a round trip after the priming SetWatches
                #expect(await zkErrorCode { try await zk.checkWatches("/p", type: .any) } == .noWatcher)
            }
        }
    }

    @Test("a one-shot watch armed right after the last persistent watch on its path is dropped still fires")
    func oneShotAfterDroppedPersistentWatchFires() async throws {
        try await withTestClient("w-drop-race") { zk, _ in
            try await zk.create("/n")
            // Dropping the watch unread ends its sequence: the client removes the server-side watch
            // in the background, racing the one-shot watch armed just after (many rounds to hit it).
            @Sendable func addAndDrop() async throws { _ = try await zk.addWatch("/n", mode: .persistent) }
            for round in 0..<40 {
                try await addAndDrop()
                let (_, _, watch) = try await zk.getDataWatching("/n")
                try await zk.setData("/n", data: bytes("\(round)"))
                let event = try await awaitEvent(watch, within: .seconds(5))
                #expect(event == .synced(.nodeDataChanged, "/n"), "round \(round)")
                // Nothing left on the server before the next round.
                try await eventually(within: .seconds(5)) {
                    await zkErrorCode { try await zk.checkWatches("/n", type: .any) } == .noWatcher
                }
            }
        }
    }

    @Test("a one-shot watching read cancelled in flight leaves no watch registered in the client", arguments: ["data", "exists", "children"])
    func cancelledOneShotReadLeavesNoLocalWatch(_ read: String) async throws {
        try await withTestClient("w-cancel-read") { zk, context in
            try await zk.create("/p")
            try await withProxiedClient(context, near: zk) { proxy, client in
                proxy.stall(.serverToClient)
                let reading = Task {
                    switch read {
                    case "data": _ = try await client.getDataWatching("/p")
                    case "exists": _ = try await client.existsWatching("/p")
                    default: _ = try await client.getChildrenWatching("/p")
                    }
                }
                // The server has armed it (seen from the other session): only its reply is pending.
                try await eventually(within: .seconds(10)) {
                    await zkErrorCode { try await zk.checkWatches("/p", type: .any) } == nil
                }
                reading.cancel()
                let outcome = try await withTimeout(.seconds(5)) { await reading.result }
                #expect(throws: CancellationError.self) { try outcome.get() }
                proxy.heal()
                _ = try await client.exists("/p")  // answered after the late reply
                // Nobody can wait on that watch: the client must not keep it (nor re-send it on reconnect).
                #expect(await zkErrorCode { try await client.removeWatches("/p", type: .any, local: true) } == .noWatcher)
            }
        }
    }
}

/// Runs `body` with a second client (session 10 s, the test's chroot) connected through a fault proxy in
/// front of the test server; the client is closed (bounded) and the proxy stopped however `body` ends.
private func withProxiedClient(
    _ context: TestContext, near: ZooKeeperClient, _ body: (FaultProxy, ZooKeeperClient) async throws -> Void
) async throws {
    // The server `near` uses (an external target may list an ensemble's members, and watches are each
    // member's own: the tests ask `near` about the proxied client's watches).
    let upstream = try #require(near.currentServer)
    let proxy = try FaultProxy.start(upstream: upstream.description)
    defer { proxy.stop() }
    var settings = try ZooKeeperConfiguration(connectionString: proxy.address + context.chroot)
    settings.sessionTimeout = .seconds(10)
    let client = try await ZooKeeperClient.connect(settings)
    do {
        try await body(proxy, client)
    } catch {
        await closeBounded(client)
        throw error
    }
    await closeBounded(client)
}
