import Foundation
import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperHTTP
import ZooKeeperInspector
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

/// What the page reported it rendered (opened with `?report=1`, it posts what its DOM shows after each
/// render), and a way to wait for a report that satisfies a condition.
final class RenderReports: Sendable {
    private let log = AwaitableLog<JSONValue>()

    var sink: ReportSink { ReportSink { [log] report in log.append(report) } }

    /// The first report (already received or to come) that `match`es, or nil after `timeout`.
    func first(within timeout: Duration, where match: @escaping @Sendable (JSONValue) -> Bool) async -> JSONValue? {
        await log.first(within: timeout, where: match)
    }

    var count: Int { log.count }
    var last: JSONValue? { log.last }
}

extension JSONValue {
    /// The card the page rendered for the recipe at `path`.
    func card(_ path: String) -> JSONValue? { self["recipes"]?.elements.first { $0["path"] == .string(path) } }
    func names(_ key: String) -> [String] { self[key]?.elements.compactMap(\.stringValue) ?? [] }
}

/// A real browser on the real page: headless Chromium opens the inspector on our embedded server with a
/// held lock and two waiters, an election and a queue; what the page's DOM shows is read back, then the
/// lock is handed over and the same page (no reload) must show the new holder.
@Suite(.timeLimit(.minutes(3))) struct InspectorBrowserTests {
    @Test(.enabled(if: HeadlessChromium.path != nil || HeadlessChromium.required,
                   "chromium is not installed (apt-get install chromium); CI=true requires it"))
    func thePageShowsLocksElectionsAndQueuesAndFollowsAHandoffLive() async throws {
        let chromium = try #require(HeadlessChromium.path, "CI=true: chromium must be installed (.ci/run installs it)")
        _ = chromium
        let artifacts = HeadlessChromium.artifactsDirectory()
        print("InspectorBrowserTests: screenshots and the browser log go to \(artifacts)")
        let reports = RenderReports()
        try await withInspector(reports: reports.sink) { fixture in
            let scene = try await Scene.build(fixture)
            do {
                try await watchInBrowser(fixture, scene, reports, artifacts: artifacts)
            } catch {
                await scene.tearDown()
                throw error
            }
            await scene.tearDown()
        }
    }

    private func watchInBrowser(_ fixture: InspectorFixture, _ scene: Scene, _ reports: RenderReports, artifacts: String) async throws {
        let url = fixture.inspector.url + "?report=1"
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("shepherd-chromium-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let browser = try HeadlessChromium.open(url, profile: profile, log: artifacts + "/chromium.log")
        defer { _ = browser.terminate(grace: .seconds(5)) }

        // 1. The first state: holder, the two waiters in their order, the leader, the queue.
        let holder = scene.lockNodes[0], waiters = Array(scene.lockNodes.dropFirst())
        let before = await reports.first(within: .seconds(60)) { report in
            guard let lock = report.card("/locks/orders") else { return false }
            return lock.names("holders") == [holder] && lock.names("waiters") == waiters
                && report.card("/election") != nil && report.card("/jobs") != nil
        }
        let shown = try #require(before, "the page never showed the lock's holder and waiters; last report: \(reports.last?.compact() ?? "none")")
        let election = try #require(shown.card("/election"))
        #expect(election["kind"] == .string("leaderLatch"))
        #expect(election["text"]?.stringValue?.contains("scheduler-a") == true, "the leader's id is on the page")
        #expect(election.names("holders").count == 1 && election.names("waiters").count == 1)
        let queue = try #require(shown.card("/jobs"))
        #expect(queue["text"]?.stringValue?.contains("depth:3") == true, "\(queue["text"]?.stringValue ?? "")")
        let pageID = try #require(shown["pageId"]?.stringValue)
        try await HeadlessChromium.screenshot(fixture.inspector.url, to: artifacts + "/inspector-lock-with-waiters.png")

        // The same from a second angle: the DOM as Chromium dumps it, with the lock's node opened by a deep link.
        let dom = try await HeadlessChromium.dumpDOM(fixture.inspector.url + "?node=/locks/orders/\(holder)")
        #expect(dom.contains("data-recipe-path=\"/locks/orders\""))
        #expect(dom.contains("<li class=\"participant holder\" data-node=\"\(holder)\""), "the holder's row")
        let waiterRows = waiters.compactMap { dom.range(of: "<li class=\"participant waiter\" data-node=\"\($0)\"")?.lowerBound }
        #expect(waiterRows.count == 2 && waiterRows == waiterRows.sorted(), "both waiters, in order")
        #expect(dom.contains("<h2 class=\"mono\">/locks/orders/\(holder)</h2>"), "the node view opened")
        #expect(dom.contains("ephemeralOwner") && dom.contains(fixture.client.session?.idHex ?? "?"), "its Stat, with the owner")
        #expect(dom.contains(">world<") && dom.contains(">anyone<") && dom.contains(">cdrwa<"), "its ACL")
        #expect(dom.contains("data-member=\"127.0.0.1:\(fixture.server.port)\"") && dom.contains(">standalone<"), "the ensemble panel")

        // 2. The handoff: the holder releases; the same page, never reloaded, must show the next holder.
        try await scene.releaseHolder()
        let after = await reports.first(within: .seconds(30)) { report in
            guard report["pageId"]?.stringValue == pageID, let lock = report.card("/locks/orders") else { return false }
            return lock.names("holders") == [waiters[0]] && lock.names("waiters") == [waiters[1]]
        }
        let live = try #require(after, "the page did not show the handoff; last report: \(reports.last?.compact() ?? "none")")
        #expect(live["live"] == .bool(true), "the event stream was open")
        try await HeadlessChromium.screenshot(fixture.inspector.url, to: artifacts + "/inspector-after-handoff.png")
        print("InspectorBrowserTests: \(reports.count) renders reported; screenshots: \(artifacts)/inspector-lock-with-waiters.png, \(artifacts)/inspector-after-handoff.png")
    }
}

/// The coordination the page must show: a lock held with two waiters, an election, a queue.
private struct Scene: Sendable {
    let holderLease: LockLease
    let waiterClients: [ZooKeeperClient]
    let waiting: [Task<Void, any Error>]
    let latches: [LeaderLatch]
    /// The lock's nodes in lock order: the holder's, then the waiters'.
    let lockNodes: [String]
    /// Tells the first waiter, once it holds, that it may release.
    let releaseFirstWaiter: AsyncStream<Void>.Continuation

    static func build(_ fixture: InspectorFixture) async throws -> Scene {
        let holderLease = try await DistributedMutex(client: fixture.client, path: "/locks/orders").acquire(timeout: .seconds(10))
        let waiterClients = [try await fixture.newClient(), try await fixture.newClient()]
        let (releases, releaseFirst) = AsyncStream<Void>.makeStream()
        var waiting: [Task<Void, any Error>] = []
        for (index, client) in waiterClients.enumerated() {
            // One at a time, so their order in the queue is known.
            try await eventually(within: .seconds(10)) { try await fixture.client.getChildren("/locks/orders").count == index + 1 }
            let holdsUntilTold = index == 0
            waiting.append(Task {
                let lease = try await DistributedMutex(client: client, path: "/locks/orders").acquire(timeout: .seconds(120))
                if holdsUntilTold { for await _ in releases { break } }
                try await lease.release()
            })
        }
        try await eventually(within: .seconds(10)) { try await fixture.client.getChildren("/locks/orders").count == 3 }
        let lockNodes = LockNames.sorted(try await fixture.client.getChildren("/locks/orders"))
        let latches = [LeaderLatch(client: fixture.client, path: "/election", id: "scheduler-a"),
                       LeaderLatch(client: waiterClients[1], path: "/election", id: "scheduler-b")]
        try await latches[0].start()
        try await latches[0].waitForLeadership(timeout: .seconds(10))
        try await latches[1].start()
        let queue = DistributedQueue<String>(client: fixture.client, path: "/jobs")
        for job in ["resize-images", "send-invoices", "rebuild-index"] { try await queue.put(job) }
        return Scene(holderLease: holderLease, waiterClients: waiterClients, waiting: waiting, latches: latches,
                     lockNodes: lockNodes, releaseFirstWaiter: releaseFirst)
    }

    func releaseHolder() async throws { try await holderLease.release() }

    func tearDown() async {
        try? await holderLease.release()
        releaseFirstWaiter.finish()
        for task in waiting { _ = try? await task.value }
        for latch in latches { await latch.close() }
        for client in waiterClients { await client.close() }
    }
}
