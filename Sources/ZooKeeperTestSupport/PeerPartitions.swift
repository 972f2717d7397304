import Synchronization
import ZooKeeperPOSIX
import ZooKeeperProtocol

/// Fault proxies on the links *between* the members of a 3-node ``ApacheEnsemble`` (ours, Apache's or
/// mixed), so a test can partition the network between members — not just stop a process — while every
/// member's clients keep reaching it directly.
///
/// Each node keeps its own `server.N` line (it binds those ports) and lists every other member at a proxy:
/// one ``FaultProxy`` per (from, to, port kind), twelve in all. ZooKeeper members only *connect* to the
/// addresses their own config lists (a follower to its leader's quorum port, election peers to each
/// other's election ports), so each proxy carries exactly the traffic that `from` starts towards `to`.
///
/// ```swift
/// try await withPeerPartitionedEnsemble(tickTime: 400, shepherdNodes: [1, 2, 3]) { ensemble, links in
///     let leader = try await ensemble.leader()
///     links.isolate(node: leader)   // silent: connections stay open, nothing arrives, new ones exchange nothing
///     …
///     links.heal()                  // queued bytes flow (late), held connections go through
/// }
/// ```
///
/// Apache's election drops a connection from a smaller sid and dials it back at the address that sid
/// *advertises* in its first message (its own `server.N` line), which would bypass the proxies: the
/// election proxies rewrite that address to the proxy for the way back, so the dial-back is cut too.
public final class PeerPartitions: Sendable {
    /// Which of a member's peer ports a link reaches.
    public enum PortKind: Sendable, CaseIterable {
        /// Learners connect to the leader's quorum port.
        case quorum
        /// Leader election (votes).
        case election
    }

    private struct Link: Hashable, Sendable {
        let from: Int
        let to: Int
        let kind: PortKind
    }

    /// The nine ports the nodes bind: client, quorum and election port of node 1, then 2, then 3
    /// (the order of the script's `ZK_PORTS`).
    public let ports: [Int]
    private let proxies: [Link: FaultProxy]

    private init(ports: [Int], proxies: [Link: FaultProxy]) {
        self.ports = ports
        self.proxies = proxies
    }

    /// A learner connects to its new leader's quorum port as soon as the election ends, often before that
    /// leader listens: directly it would be refused and retry; through a proxy it is held and retried this
    /// long (see ``FaultProxy/start(upstream:rewritingFirstBytes:upstreamRetryWindow:)``). Without it an Apache
    /// learner takes the close for a failed leader, and the leader waits out initLimit for it (+4 s a time).
    static let upstreamRetryWindow: Duration = .seconds(2)

    /// Picks nine free loopback ports for the nodes and starts the twelve proxies towards them (the
    /// proxies only resolve their upstream now; they connect when a member connects to them).
    public static func start() throws -> PeerPartitions {
        let ports = try freePorts(9)
        // Filled once every proxy listens; the election proxies' rewriters look the way back up in it.
        let proxyPorts = Mutex<[Link: Int]>([:])
        var proxies: [Link: FaultProxy] = [:]
        do {
            for from in 1...3 {
                for to in 1...3 where to != from {
                    for kind in PortKind.allCases {
                        let upstream = "127.0.0.1:\(port(of: to, kind, in: ports))"
                        let back = Link(from: to, to: from, kind: .election)
                        let rewriter = kind == .election ? dialBackRewriter { proxyPorts.withLock { $0[back] } } : nil
                        proxies[Link(from: from, to: to, kind: kind)] = try FaultProxy.start(
                            upstream: upstream, rewritingFirstBytes: rewriter, upstreamRetryWindow: upstreamRetryWindow)
                    }
                }
            }
        } catch {
            proxies.values.forEach { $0.stop() }
            throw error
        }
        proxyPorts.withLock { table in for (link, proxy) in proxies { table[link] = proxy.port } }
        return PeerPartitions(ports: ports, proxies: proxies)
    }

    /// Rewrites an election connection's initial message so the address it advertises is the proxy
    /// back to its sender (`dialBack`'s port): Apache dials a smaller sid back there.
    private static func dialBackRewriter(_ dialBack: @escaping @Sendable () -> Int?) -> FaultProxy.FirstBytesRewriter {
        { held in
            // Not an initial message we understand: pass it on untouched (the receiver judges it).
            guard let decoded = try? ElectionInitialMessage.decode(held[...]) else { return (0, []) }
            guard case .message(let message, let length) = decoded else { return nil }
            guard !message.addresses.isEmpty, let port = dialBack() else { return (0, []) }
            return (length, ElectionInitialMessage(sid: message.sid, addresses: ["127.0.0.1:\(port)"]).encoded())
        }
    }

    /// The environment for `docker/local-ensemble.sh start`: the fixed ports (`ZK_PORTS`) and each node's
    /// server lines (`ZK_SERVERS_N`): its own real addresses, the others' proxies.
    public var environment: [String] {
        var environment = ["ZK_PORTS=\(ports.map(String.init).joined(separator: " "))"]
        for node in 1...3 {
            let lines = (1...3).map { peer -> String in
                if peer == node {
                    return "server.\(peer)=127.0.0.1:\(Self.port(of: peer, .quorum, in: ports)):\(Self.port(of: peer, .election, in: ports))"
                }
                let quorum = proxy(node, peer, .quorum).port
                let election = proxy(node, peer, .election).port
                return "server.\(peer)=127.0.0.1:\(quorum):\(election)"
            }
            environment.append("ZK_SERVERS_\(node)=\(lines.joined(separator: " "))")
        }
        return environment
    }

    /// Cuts `node` off from both other members, both ways, silently: open connections stay open and
    /// carry nothing; new connections are accepted by the proxy but held (no byte exchanged) until
    /// ``heal()``.
    public func isolate(node: Int) {
        for peer in 1...3 where peer != node { sever(node, peer) }
    }

    /// Cuts the link between `a` and `b` both ways (silently, like ``isolate(node:)``); the third member
    /// still reaches both.
    public func sever(_ a: Int, _ b: Int) {
        for kind in PortKind.allCases {
            proxy(a, b, kind).stall(.both)
            proxy(b, a, kind).stall(.both)
        }
    }

    /// A one-way cut: bytes `from` sends no longer reach `to` (on connections either of them opened),
    /// while `to`'s bytes still reach `from`. New connections still open, and carry the other way only.
    public func cut(from: Int, to: Int) {
        for kind in PortKind.allCases {
            proxy(from, to, kind).stall(.clientToServer)
            proxy(to, from, kind).stall(.serverToClient)
        }
    }

    /// Ends every cut: bytes held during it are delivered (late, like TCP retransmissions) and held
    /// connections are connected upstream.
    public func heal() {
        proxies.values.forEach { $0.heal() }
    }

    /// Connections `from` has opened towards `to`'s `kind` port since the start: shows the proxies
    /// really carry the ensemble's traffic.
    public func acceptedConnections(from: Int, to: Int, _ kind: PortKind) -> Int {
        proxy(from, to, kind).acceptedConnections
    }

    /// Stops every proxy (idempotent). Stop the ensemble first: a member whose peers vanish would
    /// otherwise start an election while it is shut down.
    public func stop() {
        proxies.values.forEach { $0.stop() }
    }

    // MARK: Internals

    private func proxy(_ from: Int, _ to: Int, _ kind: PortKind) -> FaultProxy {
        guard let proxy = proxies[Link(from: from, to: to, kind: kind)] else {
            preconditionFailure("no link \(from) -> \(to) (\(kind)): nodes are 1-3 and distinct")
        }
        return proxy
    }

    private static func port(of node: Int, _ kind: PortKind, in ports: [Int]) -> Int {
        ports[(node - 1) * 3 + (kind == .quorum ? 1 : 2)]
    }

    /// `count` distinct free loopback ports (``SocketHelpers/freeLoopbackPort()``: below the ephemeral range,
    /// so no outgoing connection takes one before its node binds it).
    private static func freePorts(_ count: Int) throws -> [Int] {
        try (0..<count).map { _ in try SocketHelpers.freeLoopbackPort() }
    }
}

/// Starts a 3-node ensemble whose members reach each other only through ``PeerPartitions`` proxies,
/// runs `body`, then stops the ensemble and the proxies — whether `body` returns or throws.
/// - Parameters:
///   - shepherdNodes: the nodes (1–3) that run our `zk-server` (see ``ApacheEnsemble/start(nodes:tickTime:launcher:shepherdNodes:extraConfig:peerLinks:)``).
public func withPeerPartitionedEnsemble<Result>(
    tickTime: Int = 1000,
    shepherdNodes: [Int] = [],
    extraConfig: [String] = [],
    isolation: isolated (any Actor)? = #isolation,
    _ body: (ApacheEnsemble, PeerPartitions) async throws -> Result
) async throws -> Result {
    let links = try PeerPartitions.start()
    let ensemble: ApacheEnsemble
    do {
        ensemble = try await ApacheEnsemble.start(
            tickTime: tickTime, shepherdNodes: shepherdNodes, extraConfig: extraConfig, peerLinks: links)
    } catch {
        links.stop()
        throw error
    }
    return try await withCleanup({
        await ensemble.stop()
        links.stop()
    }) { try await body(ensemble, links) }
}
