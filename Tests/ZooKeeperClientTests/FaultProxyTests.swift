import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperPOSIX
import ZooKeeperProtocol
import ZooKeeperServer
import ZooKeeperTestSupport

/// An embedded server with a short tick, so sessions of 1–5 s are allowed (2..20 ticks), stopped
/// however `body` ends.
private func withServer(_ body: (EmbeddedServer) async throws -> Void) async throws {
    var configuration = EmbeddedServer.defaultConfiguration
    configuration.tickTime = 250
    try await withEmbeddedServer(configuration: configuration, inMemory: true, body)
}

/// The tests' client settings: `session`, a 10 s bound on the first connection, 2 s per connect.
private func configuration(_ connectString: String, session: Duration) throws -> ZooKeeperConfiguration {
    var configuration = try ZooKeeperConfiguration(connectionString: connectString)
    configuration.sessionTimeout = session
    configuration.initialConnectionTimeout = .seconds(10)
    configuration.connectTimeout = .seconds(2)
    return configuration
}

private func connect(_ connectString: String, session: Duration) async throws -> ZooKeeperClient {
    try await ZooKeeperClient.connect(configuration(connectString, session: session))
}

/// Records every connection state of a client, until its state stream ends (on close).
private final class StateLog: Sendable {
    private let seen = Mutex<[ConnectionState]>([])
    static func recording(_ client: ZooKeeperClient) -> StateLog {
        let log = StateLog()
        let states = client.connectionStates()
        Task { for await state in states { log.seen.withLock { $0.append(state) } } }
        return log
    }
    var states: [ConnectionState] { seen.withLock { $0 } }
}

/// Runs `body` with an embedded server and a proxy in front of it; both are stopped however
/// `body` ends.
private func withProxiedServer(
    _ body: (EmbeddedServer, FaultProxy) async throws -> Void
) async throws {
    try await withServer { server in
        let proxy = try FaultProxy.start(upstream: server.connectString)
        defer { proxy.stop() }
        try await body(server, proxy)
    }
}

/// Runs `body` with a client of `connectString`, closed however `body` ends.
private func withClient(
    _ connectString: String, session: Duration, _ body: (ZooKeeperClient) async throws -> Void
) async throws {
    try await withZooKeeperClient(configuration(connectString, session: session), body)
}

/// A flag set once, read from any task.
private final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// Asserts that `task` has not finished within `window`: an observation window for something that
/// must NOT happen (a reply crossing a stalled proxy), not a synchronisation.
private func expectStillPending<T: Sendable>(
    _ task: Task<T, any Error>, for window: Duration, sourceLocation: SourceLocation = #_sourceLocation
) async {
    let finished = Flag()
    // Unstructured: awaiting `task.value` cannot be cancelled, and the task only ends after heal.
    Task { _ = try? await task.value; finished.set() }
    let pending = await neverHappens(within: window) { finished.isSet }
    #expect(pending, "finished while the proxy was stalled", sourceLocation: sourceLocation)
}

@Suite("FaultProxy between a client and a server", .serialized, .timeLimit(.minutes(1)))
struct FaultProxyTests {
    @Test("relays a real client's requests and replies")
    func relays() async throws {
        try await withProxiedServer { _, proxy in
            try await withClient(proxy.address, session: .seconds(4)) { client in
                try await client.create("/relayed", data: Array("hello".utf8))
                #expect(try await client.getData("/relayed").data == Array("hello".utf8))
                #expect(proxy.acceptedConnections == 1)
                #expect(proxy.activeConnections == 1)
                #expect(proxy.port > 0 && proxy.address == "127.0.0.1:\(proxy.port)")
            }
        }
    }

    @Test("a stall shorter than the read timeout delays a request; heal delivers it on the same connection")
    func shortStall() async throws {
        try await withProxiedServer { _, proxy in
            // Session 5 s: read timeout 3.3 s, far longer than the stall.
            try await withClient(proxy.address, session: .seconds(5)) { client in
                let log = StateLog.recording(client)
                try await client.create("/stalled", data: [1])
                proxy.stall()
                let request = Task { try await client.getData("/stalled").data }
                await expectStillPending(request, for: .milliseconds(600))
                proxy.heal()
                #expect(try await withTimeout(.seconds(10)) { try await request.value } == [1])
                #expect(proxy.acceptedConnections == 1, "the client kept its connection")
                #expect(!log.states.contains(.suspended))
            }
        }
    }

    @Test("a both-ways stall longer than the read timeout makes the client suspend; heal lets it reconnect")
    func longStall() async throws {
        try await withProxiedServer { _, proxy in
            // Session 5 s: read timeout 3.3 s; healed right after the suspension, well before the server
            // expires the session (5 s after it last heard from the client).
            try await withClient(proxy.address, session: .seconds(5)) { client in
                let states = client.connectionStates()
                proxy.stall(.both)
                try await waitForState(states, within: .seconds(15)) { $0 == .suspended }
                // The client retries through the proxy: that connection is accepted but held.
                try await proxy.waitForConnections(atLeast: 2, timeout: .seconds(10))
                proxy.heal()
                let session = try #require(client.session).id
                try await client.waitUntilConnected(timeout: .seconds(15))
                #expect(client.session?.id == session, "the same session, resumed")
                _ = try await client.exists("/")
            }
        }
    }

    @Test("resetAll makes the client reconnect to the same session")
    func resetAll() async throws {
        try await withProxiedServer { _, proxy in
            try await withClient(proxy.address, session: .seconds(5)) { client in
                let session = try #require(client.session).id
                let states = client.connectionStates()
                proxy.resetAll()
                try await waitForState(states, within: .seconds(15)) { $0 == .reconnected }
                #expect(client.session?.id == session)
                #expect(proxy.acceptedConnections >= 2)
                _ = try await client.exists("/")
            }
        }
    }

    @Test("a client-to-server stall keeps requests from the server until heal")
    func clientToServerStall() async throws {
        try await withProxiedServer { server, proxy in
            try await withClient(server.connectString, session: .seconds(5)) { observer in  // direct, not proxied
                try await withClient(proxy.address, session: .seconds(5)) { client in
                    proxy.stall(.clientToServer)
                    let request = Task { try await client.create("/upward", data: [2]) }
                    await expectStillPending(request, for: .milliseconds(500))
                    #expect(try await observer.exists("/upward") == nil, "the request must not have reached the server")
                    proxy.heal()
                    _ = try await withTimeout(.seconds(10)) { try await request.value }
                    #expect(try await observer.exists("/upward") != nil)
                }
            }
        }
    }

    @Test("a server-to-client stall lets requests through but holds the replies until heal")
    func serverToClientStall() async throws {
        try await withProxiedServer { server, proxy in
            try await withClient(server.connectString, session: .seconds(5)) { observer in
                try await withClient(proxy.address, session: .seconds(5)) { client in
                    proxy.stall(.serverToClient)
                    let request = Task { try await client.create("/downward", data: [3]) }
                    // The request arrives: the node appears for a direct observer...
                    try await eventually(within: .seconds(10)) { try await observer.exists("/downward") != nil }
                    // ...but the reply stays in the proxy.
                    await expectStillPending(request, for: .milliseconds(300))
                    proxy.heal()
                    #expect(try await withTimeout(.seconds(10)) { try await request.value } == "/downward")
                }
            }
        }
    }

    @Test("a delay adds at least the delay each way to a round trip")
    func delay() async throws {
        try await withProxiedServer { _, proxy in
            try await withClient(proxy.address, session: .seconds(5)) { client in
                try await client.create("/slow", data: [4])
                proxy.setDelay(.milliseconds(200), jitter: .milliseconds(50))
                let clock = ContinuousClock()
                let start = clock.now
                #expect(try await client.getData("/slow").data == [4])
                let elapsed = clock.now - start
                // The request and its reply are each held at least 200 ms; no upper bound is asserted.
                #expect(elapsed >= .milliseconds(400), "round trip took only \(elapsed)")
                proxy.setDelay(.zero)
            }
        }
    }

    @Test("jitter never reorders bytes: concurrent requests all get their own replies")
    func jitterKeepsOrder() async throws {
        try await withProxiedServer { _, proxy in
            try await withClient(proxy.address, session: .seconds(5)) { client in
                for index in 0..<20 { try await client.create(try ZNodePath("/ordered-\(index)"), data: [UInt8(index)]) }
                proxy.setDelay(.milliseconds(5), jitter: .milliseconds(40))
                // Many requests in flight at once: their frames cross the proxy in many chunks, each held
                // a random time; any reordering would corrupt the frames or mismatch the replies.
                let results = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
                    for index in 0..<20 {
                        group.addTask { (index, try await client.getData(try ZNodePath("/ordered-\(index)")).data) }
                    }
                    return try await group.reduce(into: [Int: [UInt8]]()) { $0[$1.0] = $1.1 }
                }
                #expect(results.count == 20)
                #expect(results.allSatisfy { $0.value == [UInt8($0.key)] })
                #expect(proxy.acceptedConnections == 1, "no reconnection: the stream stayed well-formed")
            }
        }
    }

    @Test("a connection opened during a both-ways stall is held, then served on heal")
    func heldConnection() async throws {
        try await withProxiedServer { _, proxy in
            proxy.stall()
            let connecting = Task { try await connect(proxy.address, session: .seconds(5)) }
            do {
                try await proxy.waitForConnections(atLeast: 1, timeout: .seconds(10))
                #expect(proxy.activeConnections == 1)
                await expectStillPending(connecting, for: .milliseconds(500))
            } catch {
                proxy.heal()
                await (try? connecting.value)?.close()
                throw error
            }
            proxy.heal()
            let client = try await withTimeout(.seconds(10)) { try await connecting.value }
            do {
                _ = try await client.exists("/")
            } catch {
                await client.close()
                throw error
            }
            await client.close()
        }
    }

    @Test("stop closes the listener and every connection; it is idempotent")
    func stop() async throws {
        try await withProxiedServer { _, proxy in
            try await withClient(proxy.address, session: .seconds(5)) { client in
                let states = client.connectionStates()
                proxy.stop()
                #expect(proxy.activeConnections == 0)
                try await waitForState(states, within: .seconds(10)) { $0 == .suspended }
                let address = try #require(try SocketAddress.resolve(host: "127.0.0.1", port: proxy.port).first)
                #expect(throws: SocketError.self) { try Socket.connect(to: address, timeout: .seconds(2)).close() }
                proxy.stop()
            }
        }
    }

    @Test("a reply larger than the proxy's buffer waits out a stall and arrives intact")
    func largeReplyAcrossStall() async throws {
        try await withProxiedServer { server, proxy in
            let payload = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try await withClient(server.connectString, session: .seconds(5)) { writer in
                try await writer.create("/large", data: payload)
            }
            try await withClient(proxy.address, session: .seconds(5)) { client in
                proxy.stall(.serverToClient)
                let request = Task { try await client.getData("/large").data }
                await expectStillPending(request, for: .milliseconds(300))
                proxy.heal()
                let data = try await withTimeout(.seconds(10)) { try await request.value }
                #expect(data == payload)
            }
        }
    }

    @Test("an upstream that refuses closes the client's side")
    func upstreamRefuses() async throws {
        // A port that was free a moment ago: nothing listens there.
        let listener = try Socket.listen(host: "127.0.0.1", port: 0)
        let deadPort = try #require(listener.localAddress?.port)
        listener.close()
        let proxy = try FaultProxy.start(upstream: "127.0.0.1:\(deadPort)")
        defer { proxy.stop() }
        let address = try #require(try SocketAddress.resolve(host: "127.0.0.1", port: proxy.port).first)
        let socket = try Socket.connect(to: address, timeout: .seconds(5))
        defer { socket.close() }
        #expect(try Poller.waitFor(fd: socket.fd, events: Poller.readable, timeout: .seconds(10)))
        var buffer = [UInt8](repeating: 0, count: 16)
        let outcome = Result { () throws(SocketError) -> Socket.ReadResult in try socket.read(into: &buffer) }
        switch outcome {
        case .success(let result): #expect(result == .endOfFile)
        case .failure: break  // a reset is a close too
        }
        try await eventually(within: .seconds(10)) { proxy.activeConnections == 0 }
    }

    @Test("when the server goes away the proxy closes the client's side")
    func serverCloses() async throws {
        try await withServer { server in
            let proxy = try FaultProxy.start(upstream: server.connectString)
            defer { proxy.stop() }
            try await withClient(proxy.address, session: .seconds(5)) { client in
                let states = client.connectionStates()
                await server.stop()  // stopping twice is harmless: withServer's stop finds it stopped
                try await waitForState(states, within: .seconds(10)) { $0 == .suspended }
            }
        }
    }

    @Test("with a retry window, a client that connects before its upstream listens gets through late")
    func upstreamRetryWindow() async throws {
        let probe = try Socket.listen(host: "127.0.0.1", port: 0)
        let port = try #require(probe.localAddress?.port)
        probe.close()  // nothing listens there yet
        let proxy = try FaultProxy.start(upstream: "127.0.0.1:\(port)", upstreamRetryWindow: .seconds(5))
        defer { proxy.stop() }
        let client = try RawConnection(port: proxy.port)
        defer { client.reset() }
        try client.write(Array("hello".utf8))
        try await proxy.waitForConnections(atLeast: 1, timeout: .seconds(5))
        // The server comes up only after the proxy's connects to it were refused (retried) a few times.
        try await eventually(within: .seconds(5)) { proxy.refusedUpstreamConnects >= 3 }
        let upstream = try Socket.listen(host: "127.0.0.1", port: port)
        defer { upstream.close() }
        #expect(try Poller.waitFor(fd: upstream.fd, events: Poller.readable, timeout: .seconds(5)))
        let server = try #require(try upstream.accept())
        defer { server.close() }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while received.count < 5, try Poller.waitFor(fd: server.fd, events: Poller.readable, timeout: .seconds(5)) {
            guard case .bytes(let count) = try server.read(into: &buffer) else { continue }
            received += buffer[0..<count]
        }
        #expect(String(decoding: received, as: UTF8.self) == "hello")
    }

    @Test("a first-bytes rewriter sees the held bytes until it decides; the rest passes untouched")
    func rewritesFirstBytes() async throws {
        let upstream = try Socket.listen(host: "127.0.0.1", port: 0)
        defer { upstream.close() }
        let upstreamPort = try #require(upstream.localAddress?.port)
        // Replaces a 4-byte "AAAA" greeting with "BB"; needs all four bytes to decide.
        let proxy = try FaultProxy.start(upstream: "127.0.0.1:\(upstreamPort)") { held in
            guard held.count >= 4 else { return nil }
            return held.starts(with: Array("AAAA".utf8)) ? (4, Array("BB".utf8)) : (0, [])
        }
        defer { proxy.stop() }
        let client = try RawConnection(port: proxy.port)
        defer { client.reset() }
        try client.write(Array("AA".utf8))  // half a greeting: held
        #expect(try Poller.waitFor(fd: upstream.fd, events: Poller.readable, timeout: .seconds(10)))
        let server = try #require(try upstream.accept())
        defer { server.close() }
        try client.write(Array("AAtail".utf8))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while received.count < 6, try Poller.waitFor(fd: server.fd, events: Poller.readable, timeout: .seconds(10)) {
            guard case .bytes(let count) = try server.read(into: &buffer) else { continue }
            received += buffer[0..<count]
        }
        #expect(String(decoding: received, as: UTF8.self) == "BBtail")
    }

    @Test("FaultProxies: one proxy per server, controlled together")
    func proxies() async throws {
        try await withProxiedServer { first, _ in
            try await withProxiedServer { second, _ in
                try await stallTogether(upstreams: "\(first.connectString),\(second.connectString)")
            }
        }
    }

    private func stallTogether(upstreams: String) async throws {
        let proxies = try FaultProxies(connectString: upstreams)
        defer { proxies.stop() }
        #expect(proxies.proxies.count == 2)
        #expect(proxies.connectString == proxies.proxies.map(\.address).joined(separator: ","))
        try await withClient(proxies.connectString, session: .seconds(5)) { client in
            proxies.stall()
            let request = Task { try await client.exists("/") }
            await expectStillPending(request, for: .milliseconds(300))
            proxies.heal()
            _ = try await withTimeout(.seconds(10)) { try await request.value }
        }
    }
}
