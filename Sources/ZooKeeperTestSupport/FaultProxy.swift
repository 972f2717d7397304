import Foundation
import ZooKeeperPOSIX

/// A TCP relay a test puts between a ZooKeeper client and a server (the embedded server, Apache
/// standalone, one member of an Apache ensemble) to inject network faults the server cannot see
/// as faults: a **silent partition** (TCP stays open, nothing arrives), added latency, or a reset.
///
/// ```swift
/// let proxy = try FaultProxy.start(upstream: server.connectString)
/// defer { proxy.stop() }
/// let client = try await ZooKeeperClient.connect(.init(connectionString: proxy.address))
/// proxy.stall()      // requests now hang; the client's read timeout will fire eventually
/// proxy.heal()       // queued bytes flow again, late, like TCP retransmissions
/// ```
///
/// One dedicated thread runs a `poll` loop over non-blocking sockets; the control calls may come
/// from any thread or task and return once the relay thread has applied them, so bytes sent after
/// ``stall(_:)`` returns are never relayed before ``heal()``.
public final class FaultProxy: Sendable {
    /// Which way bytes stop flowing.
    public enum Direction: Sendable {
        /// Requests from the client no longer reach the server.
        case clientToServer
        /// Replies and notifications from the server no longer reach the client.
        case serverToClient
        /// Nothing flows either way; new connections are held (accepted, not relayed) until heal.
        case both
    }

    /// Decides how a connection's first client bytes are forwarded: given everything held so far,
    /// nil while it needs more, else how many held bytes it consumed and what goes upstream instead
    /// (`(0, [])` passes them through). Called on the relay thread, once per read until it decides.
    public typealias FirstBytesRewriter = @Sendable ([UInt8]) -> (consumed: Int, replacement: [UInt8])?

    /// The proxy's listening port on 127.0.0.1.
    public let port: Int
    private let control: FaultProxyControl

    /// Splits `"host:port"` / `"[v6]:port"` into its parts.
    private static func parse(_ hostPort: String) throws -> (host: String, port: Int) {
        guard let colon = hostPort.lastIndex(of: ":"), let port = Int(hostPort[hostPort.index(after: colon)...]),
            (1...65_535).contains(port)
        else {
            throw TestSupportError("not a host:port address: \(hostPort)")
        }
        var host = String(hostPort[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw TestSupportError("no host in \(hostPort)") }
        return (host, port)
    }

    /// Listens on 127.0.0.1, a free port; relays each accepted connection to `upstream`
    /// (`"host:port"`, resolved once here). `rewritingFirstBytes` may change what each connection's
    /// client sends first (e.g. the address in an election handshake, see ``PeerPartitions``).
    /// `upstreamRetryWindow`: when the upstream refuses a connection, keep the client (silent) and retry
    /// every 20 ms for this long after its accept before closing it (`.zero`: close at once). A proxy
    /// accepts before it knows whether its upstream listens; this keeps "not listening *yet*" from looking
    /// like "connected, then closed" to a peer that would have retried a refused connect.
    public static func start(
        upstream: String, rewritingFirstBytes rewriter: FirstBytesRewriter? = nil, upstreamRetryWindow: Duration = .zero
    ) throws -> FaultProxy {
        let (host, upstreamPort) = try parse(upstream)
        guard let address = try SocketAddress.resolve(host: host, port: upstreamPort).first else {
            throw TestSupportError("\(upstream) did not resolve")
        }
        let listener = try Socket.listen(host: "127.0.0.1", port: 0)
        guard let port = listener.localAddress?.port else {
            listener.close()
            throw TestSupportError("the proxy's listening socket has no local address")
        }
        let control: FaultProxyControl
        do {
            control = try FaultProxyControl()
        } catch {
            listener.close()
            throw error
        }
        let thread = Thread {
            var relay = FaultProxyRelay(
                listener: listener, upstream: address, control: control, rewriter: rewriter,
                upstreamRetryWindow: upstreamRetryWindow)
            relay.run()
        }
        thread.name = "FaultProxy :\(port) -> \(upstream)"
        thread.start()
        return FaultProxy(port: port, control: control)
    }

    private init(port: Int, control: FaultProxyControl) {
        self.port = port
        self.control = control
    }

    deinit {
        stop()
    }

    /// `"127.0.0.1:<port>"`, to put in a client's connection string.
    public var address: String { "127.0.0.1:\(port)" }

    /// Stops reading in `direction` (`.both`: nothing is read on either side). Bytes wait in the
    /// kernel's and the proxy's buffers and arrive late on ``heal()``, like TCP retransmissions
    /// across a partition. While `.both` is stalled, new connections are accepted but held (not
    /// connected upstream) until heal. Stalls add up: `.clientToServer` then `.serverToClient`
    /// is `.both`.
    public func stall(_ direction: Direction = .both) {
        control.request { settings in
            if direction != .serverToClient { settings.stallClientToServer = true }
            if direction != .clientToServer { settings.stallServerToClient = true }
        }
    }

    /// Resumes relaying everything: queued bytes first, then held connections go upstream.
    public func heal() {
        control.request { settings in
            settings.stallClientToServer = false
            settings.stallServerToClient = false
        }
    }

    /// Resets every current connection, on both sides (SO_LINGER 0, then close: the peers see RST).
    /// The proxy keeps listening; new connections are relayed as before.
    public func resetAll() {
        control.request { $0.resetGeneration += 1 }
    }

    /// Holds each chunk read from now on for `delay` plus a random `0...jitter` before forwarding
    /// it; chunks stay in order. `.zero` turns the delay off for new chunks.
    public func setDelay(_ delay: Duration, jitter: Duration = .zero) {
        control.request { settings in
            settings.delay = max(.zero, delay)
            settings.jitter = max(.zero, jitter)
        }
    }

    /// Client connections currently open through the proxy (held ones included).
    public var activeConnections: Int { control.activeConnections }

    /// Client connections accepted since ``start(upstream:)``.
    public var acceptedConnections: Int { control.acceptedConnections }

    /// Connects to the upstream that were refused or failed (each retry within a retry window counts).
    public var refusedUpstreamConnects: Int { control.refusedUpstreamConnects }

    /// Waits until ``acceptedConnections`` is at least `count`; throws ``TimeoutError`` after `timeout`.
    public func waitForConnections(atLeast count: Int, timeout: Duration) async throws {
        try await eventually(within: timeout, pollEvery: .milliseconds(10)) { acceptedConnections >= count }
    }

    /// Closes the listener and every connection and ends the relay thread. Idempotent; also
    /// done by deinit. Returns once every socket is closed.
    public func stop() {
        control.request { $0.stopping = true }
    }
}
