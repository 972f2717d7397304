import Foundation
import Testing
@testable import ZooKeeperClient
import ZooKeeperServer
import Synchronization
import Dispatch
import ZooKeeperPOSIX
import ZooKeeperProtocol
import ZooKeeperTestSupport

/// A listener whose accept queue is full: a client's TCP connect to it stays in progress (its SYN is
/// dropped and retried about a second later) until ``release()`` makes room. Linux only (/proc/net/tcp).
private final class SlowAcceptListener: Sendable {
    let listener: Socket
    let port: Int
    private let fillers: [Socket]

    init() throws {
        listener = try Socket.listen(host: "127.0.0.1", port: 0, backlog: 0)
        port = listener.localAddress?.port ?? 0
        let address = try #require(try SocketAddress.resolve(host: "127.0.0.1", port: port).first)
        var fillers: [Socket] = []
        // Connect until one no longer completes: the queue is full.
        while fillers.count < 8, let filler = try? Socket.connect(to: address, timeout: .milliseconds(300)) {
            fillers.append(filler)
        }
        self.fillers = fillers
    }

    /// Empties the accept queue (the fillers), so the next SYN retry is accepted.
    func release() throws {
        while let queued = try listener.accept() { queued.close() }
    }

    /// Accepts the next connection within `timeout`.
    func accept(within timeout: Duration) throws -> Socket {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let socket = try listener.accept() { return socket }
            _ = try Poller.waitFor(fd: listener.fd, events: Poller.readable, timeout: deadline - .now)
        }
        throw TestSupportError("no connection within \(timeout)")
    }

    func close() {
        for filler in fillers { filler.close() }
        listener.close()
    }
}

@Suite("Client connect phase", .timeLimit(.minutes(1)))
struct ConnectPhaseTests {
    @Test("a request made while a TCP connect is in progress does not abort it: the connect completes and the request is sent")
    func requestDuringConnect() async throws {
        let slow = try SlowAcceptListener()
        defer { slow.close() }
        var settings = try ZooKeeperConfiguration(connectionString: "127.0.0.1:\(slow.port)")
        settings.sessionTimeout = .seconds(10)
        settings.connectTimeout = .seconds(8)
        let client = try ZooKeeperClient(configuration: settings)
        client.start()
        // The request is made at once: the client's connect (its SYN dropped by the full queue) is
        // about to start or in progress, and either way its wake-up must not abort it.
        // Before: this request's wake-up aborted the connect and failed itself with connectionLoss.
        let request = Task { try await client.getData("/a") }
        try slow.release()
        let served = Task.detached {
            let connection = ScriptedConnection(socket: try slow.accept(within: .seconds(8)))
            defer { connection.close() }
            connection.acceptHandshake(timeoutMs: 10_000)
            guard let (header, _) = connection.readRequestSkippingPings() else { throw TestSupportError("no request") }
            let body = GetDataResponse(data: Array("ok".utf8), stat: Stat()).juteBytes()
            connection.write(Frame.encode(ReplyHeader(xid: header.xid, zxid: 0x10, err: 0).juteBytes() + body))
            // Pings and closeSession: an empty OK reply each.
            connection.serveRequests { header, _ in Frame.encode(ReplyHeader(xid: header.xid, zxid: 0x10, err: 0).juteBytes()) }
        }
        let (data, _) = try await request.value
        #expect(data == Array("ok".utf8))
        await client.close()
        try await served.value
    }

    @Test("a host name with several addresses: each address gets its own connect deadline, so a blackholed first one does not doom the second")
    func everyAddressGetsItsOwnDeadline() async throws {
        let blackhole = try SlowAcceptListener()
        defer { blackhole.close() }
        try await withEmbeddedServer(inMemory: true) { server in
            let addresses = [
                try #require(try SocketAddress.resolve(host: "127.0.0.1", port: blackhole.port).first),
                try #require(try SocketAddress.resolve(host: "127.0.0.1", port: server.port).first),
            ]
            var settings = try ZooKeeperConfiguration(connectionString: "zk.test:2181")
            settings.connectTimeout = .seconds(1)
            settings.initialConnectionTimeout = .seconds(10)
            settings.addressResolver = { host, _ in
                guard host == "zk.test" else { throw TestSupportError("unexpected host \(host)") }
                return addresses
            }
            // Before: one deadline per host; the blackholed address used it up, the second failed its
            // handshake at once, every time (getaddrinfo's order is stable).
            let client = try await ZooKeeperClient.connect(settings)
            #expect(try await client.exists("/") != nil)
            await client.close()
        }
    }

    @Test("a resolver that hangs does not stall the I/O thread: presumed expiry stays on time and close() returns at once")
    func hangingResolver() async throws {
        var configuration = EmbeddedServer.defaultConfiguration
        configuration.tickTime = 250  // sessions of 0.5–5 s
        try await withEmbeddedServer(configuration: configuration, inMemory: true) { server in
            let address = try #require(try SocketAddress.resolve(host: "127.0.0.1", port: server.port).first)
            let calls = Atomic<Int>(0)
            let release = DispatchSemaphore(value: 0)
            var settings = try ZooKeeperConfiguration(connectionString: "zk.test:2181")
            settings.sessionTimeout = .milliseconds(1500)
            settings.addressResolver = { _, _ in
                if calls.add(1, ordering: .relaxed).newValue > 1 { _ = release.wait(timeout: .now() + 30) }
                return [address]
            }
            let client = try await ZooKeeperClient.connect(settings)
            let sessionID = try #require(client.session?.id)
            #expect(client.session?.timeout == .milliseconds(1500))
            let states = client.connectionStates()
            await server.dropConnection(ofSession: sessionID)  // the reconnect's resolution hangs
            let heard = ContinuousClock.now
            try await withTimeout(.seconds(5)) { for await state in states where state == .presumedExpired { return } }
            #expect(heard.duration(to: .now) < .milliseconds(1500))
            let closing = ContinuousClock.now
            await client.close()
            #expect(closing.duration(to: .now) < .seconds(1))
            #expect(client.connectionState == .lost(.closed))
            release.signal()
        }
    }
}
