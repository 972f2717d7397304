import Foundation
import Synchronization
public import ZooKeeperClient
import ZooKeeperHTTP

/// A web UI for a ZooKeeper ensemble, served over HTTP by this process: the tree with live updates, the
/// recipes recognised from their layout, the ensemble's members. It reads through the given client only
/// (so it works against Apache ZooKeeper and ours) and writes only when configured to.
///
/// ```swift
/// let client = try await ZooKeeperClient.connect(.init(connectionString: "127.0.0.1:2181"))
/// let inspector = try await ZooKeeperInspector.start(client: client, configuration: .init(port: 8080))
/// print(inspector.url)   // open it in a browser
/// …
/// await inspector.stop()  // the client stays open: close it yourself
/// ```
///
/// Live updates: one persistent recursive watch on `/` (ZooKeeper 3.6+); each event is pushed to the pages
/// (server-sent events) and triggers a re-read of the tree (at most ten a second), whose recognised
/// recipes are pushed too. Events missed while disconnected are covered by a re-read on reconnection.
public final class ZooKeeperInspector: Sendable {
    public let configuration: InspectorConfiguration
    let client: ZooKeeperClient
    let feed = LiveFeed()
    private let http: Mutex<HTTPServer?> = Mutex(nil)
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let refreshes: AsyncStream<Void>.Continuation
    let refreshStream: AsyncStream<Void>
    /// The latest tree read and its recognised recipes (the API's answers between reads).
    let latest = Mutex<(snapshot: TreeSnapshot, recipes: JSONValue)?>(nil)
    /// The port the page is served on.
    public let port: Int

    private init(client: ZooKeeperClient, configuration: InspectorConfiguration) throws {
        self.client = client
        self.configuration = configuration
        (refreshStream, refreshes) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let settings = HTTPServerConfiguration(host: configuration.host, port: configuration.port, name: "zk-inspector")
        let router = Mutex<(@Sendable (HTTPRequest, HTTPResponder) -> Void)?>(nil)
        let server = try HTTPServer(configuration: settings) { (request: HTTPRequest, responder: HTTPResponder) in
            let route = router.withLock { $0 }
            route?(request, responder)
        }
        port = server.port
        http.withLock { $0 = server }
        let weakSelf = WeakInspector(self)  // the server holds its handler: no cycle back to us
        router.withLock { route in
            route = { (request: HTTPRequest, responder: HTTPResponder) in
                guard let inspector = weakSelf.value else { return responder.send(.error(503, "the inspector stopped")) }
                inspector.handle(request, responder)
            }
        }
    }

    /// Starts serving on the configured address and following the tree.
    /// - Throws: when the address cannot be bound.
    public static func start(client: ZooKeeperClient, configuration: InspectorConfiguration) async throws -> ZooKeeperInspector {
        let inspector = try ZooKeeperInspector(client: client, configuration: configuration)
        inspector.begin()
        return inspector
    }

    /// `http://host:port/`.
    public var url: String {
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        return "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port)/"
    }

    /// Stops serving and following; open pages see their stream end. The client is not closed.
    public func stop() async {
        let running = tasks.withLock { tasks -> [Task<Void, Never>] in
            defer { tasks = [] }
            return tasks
        }
        refreshes.finish()
        for task in running { task.cancel() }
        feed.closeAll()
        let server = http.withLock { server -> HTTPServer? in
            defer { server = nil }
            return server
        }
        await server?.stop()
        for task in running { await task.value }
    }

    /// Asks for a re-read of the tree (coalesced with any pending one).
    func refreshSoon() { refreshes.yield() }

    private func begin() {
        http.withLock { $0?.start() }
        let started: [Task<Void, Never>] = [
            Task { [self] in await followTree() },
            Task { [self] in await refreshLoop() },
            Task { [self] in await followConnection() },
            Task { [self] in await probeEnsemble() },
        ]
        tasks.withLock { $0 += started }
        refreshSoon()
    }
}

/// A weak reference that can cross threads.
private final class WeakInspector: Sendable {
    weak let value: ZooKeeperInspector?
    init(_ value: ZooKeeperInspector) { self.value = value }
}
