import Foundation
import Synchronization
import ZooKeeperClient
import ZooKeeperServer
import ZooKeeperTestSupport

/// A server (or ensemble) the matrix runs scenarios against, and the faults it can inject.
protocol MatrixTarget: AnyObject, Sendable {
    var name: String { get }
    var connectString: String { get }
    func supports(_ fault: Fault) -> Bool
    /// Injects `fault`; `victim` is the client the fault is aimed at (session expiry, its server killed).
    func inject(_ fault: Fault, victim: ZooKeeperClient) async throws
    /// Restores the target after a scenario (restarts killed nodes, waits for a healthy ensemble).
    func heal() async throws
    func shutdown() async
}

/// Expires `victim`'s session the way an Apache server allows from outside: a second connection takes the
/// session over (same id and password), which closes the victim's connection, then closes the session.
func expireByTakeover(_ victim: ZooKeeperClient, connectString: String) async throws {
    guard let session = victim.session else { throw MatrixError("victim has no session") }
    let hosts = try ZooKeeperConfiguration(connectionString: connectString).servers
    guard let server = hosts.first else { throw MatrixError("no server in \(connectString)") }
    // A raw takeover that pipelines closeSession behind its handshake (and repeats if the victim's own
    // reconnect wins the race): a client that connects and then closes can lose that race.
    try SessionTakeover.expire(session, host: server.host, port: server.port)
}

/// Shepherd's own server, in this process.
final class EmbeddedTarget: MatrixTarget {
    let name = "embedded"
    let server: EmbeddedServer
    var connectString: String { server.connectString }

    init() async throws { server = try await EmbeddedServer.start(inMemory: true) }

    func supports(_ fault: Fault) -> Bool { fault == .none || fault == .sessionExpired || fault == .partition }

    func inject(_ fault: Fault, victim: ZooKeeperClient) async throws {
        guard fault == .sessionExpired, let id = victim.session?.id else { return }
        await server.expireSession(id)
    }

    func heal() async throws {}
    func shutdown() async { await server.stop() }
}

/// Servers someone else runs (e.g. the docker compose ensemble): only faults that need no process control.
final class ExternalTarget: MatrixTarget {
    let name = "external"
    let connectString: String

    init(connectString: String) throws {
        guard !connectString.isEmpty else { throw MatrixError("external target: pass --servers or set SHEPHERD_TEST_SERVERS") }
        self.connectString = connectString
    }

    func supports(_ fault: Fault) -> Bool { fault == .none || fault == .sessionExpired || fault == .partition }

    func inject(_ fault: Fault, victim: ZooKeeperClient) async throws {
        guard fault == .sessionExpired else { return }
        try await expireByTakeover(victim, connectString: connectString)
    }

    func heal() async throws {}
    func shutdown() async {}
}

/// One Apache ZooKeeper 3.8 standalone from the Debian jars.
final class ApacheStandaloneTarget: MatrixTarget {
    let name = "apache"
    let server: ApacheZooKeeper
    var connectString: String { server.connectString }

    init() async throws {
        server = try await TestServerFixture.privateApacheServer(.init(extraConfig: ["forceSync=no"]))
    }

    func supports(_ fault: Fault) -> Bool { fault == .none || fault == .sessionExpired || fault == .partition }

    func inject(_ fault: Fault, victim: ZooKeeperClient) async throws {
        guard fault == .sessionExpired else { return }
        try await expireByTakeover(victim, connectString: connectString)
    }

    func heal() async throws {}
    func shutdown() async {
        try? await server.stop()
        server.cleanup()
    }
}

/// A 3-node (or `--ensemble-nodes`) ensemble: TestSupport's ``ApacheEnsemble`` running docker/local-ensemble.sh (or
/// `--ensemble-script`) — Apache ZooKeeper 3.8 nodes, our `zk-server` nodes (`shepherdNodes`), or a mix;
/// if this process dies (Ctrl-C, crash, SIGKILL), its reaper stops the nodes.
final class EnsembleTarget: MatrixTarget {
    let name: String
    let ensemble: ApacheEnsemble
    var connectString: String { ensemble.connectString }
    private let killed = Mutex<Set<Int>>([])
    /// The links between members, through fault proxies, when ``Fault/peerPartition`` is to run.
    private let links: PeerPartitions?
    /// The background heal of a running peer partition.
    private let partitionHeal = Mutex<Task<Void, Never>?>(nil)

    init(name: String, script: String, nodes: Int = 3, shepherdNodes: [Int] = [], peerLinks: Bool = false) async throws {
        self.name = name
        let links = peerLinks ? try PeerPartitions.start() : nil
        // Every leader change starts a new transaction log: small preallocation keeps 40-odd kills cheap
        // (zk-server's restart reads each file's preallocated tail; 64 MiB files made it grow by seconds a kill).
        // A silent leader is noticed after syncLimit (5) ticks. With peer partitions, 400 ms ticks: the cut-off
        // leader steps down (2 s) and the others elect before any 4 s session can expire. At 1000 ms, the old
        // leader would expire the sessions it no longer hears of and tell reconnecting clients so (see
        // EnsemblePartitionTests), and clients left waiting on it would presume theirs expired.
        do {
            ensemble = try await ApacheEnsemble.start(
                nodes: nodes, tickTime: peerLinks ? 400 : 1000, launcher: script, shepherdNodes: shepherdNodes,
                extraConfig: ["preAllocSize=1024"], peerLinks: links)
        } catch {
            links?.stop()
            throw error
        }
        self.links = links
    }

    func supports(_ fault: Fault) -> Bool { fault != .peerPartition || links != nil }

    func inject(_ fault: Fault, victim: ZooKeeperClient) async throws {
        switch fault {
        case .none, .partition: return  // a partition is the scenario's proxies' doing, not the ensemble's
        case .peerPartition:
            guard let links else { throw MatrixError("\(name) was started without peer links") }
            let heal = try await PeerPartitionFault(ensemble: ensemble, links: links).inject()
            partitionHeal.withLock { $0 = heal }
        case .sessionExpired: try await expireByTakeover(victim, connectString: connectString)
        case .leaderKilled:
            let node = try await ensemble.leader()
            try await ensemble.kill(node: node)
            killed.withLock { _ = $0.insert(node) }
        case .followerRestarted:
            let node = try await ensemble.follower()
            try await ensemble.kill(node: node)
            try await Task.sleep(for: .seconds(1))
            try await ensemble.startNode(node)
        case .clientServerKilled:
            guard let port = victim.currentServer?.port else { throw MatrixError("victim is not connected") }
            let node = try await ensemble.node(ofPort: port)
            try await ensemble.kill(node: node)
            killed.withLock { _ = $0.insert(node) }
        }
    }

    func heal() async throws {
        if let partition = partitionHeal.withLock({ task in defer { task = nil }; return task }) {
            await partition.value  // bounded by the election wait
        }
        links?.heal()
        for node in killed.withLock({ nodes in defer { nodes = [] }; return nodes }) {
            try await ensemble.startNode(node)
        }
        try await ensemble.waitHealthy()
    }

    func shutdown() async {
        await ensemble.stop()
        links?.stop()
    }
}
