import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// What the network-partition tests measure on an ensemble: writes acknowledged (with the zxid that made
/// them, so their epoch), each member's mode, and each member's tree read from that member alone.
enum PartitionProbes {
    static let clock = ContinuousClock()

    /// A client of `servers` only (one member: its clients stay with it across the partition).
    static func client(_ servers: [String], tickTime: Int) async throws -> ZooKeeperClient {
        var configuration = try ZooKeeperConfiguration(connectionString: servers.joined(separator: ","))
        configuration.sessionTimeout = .milliseconds(tickTime * 20)
        return try await ZooKeeperClient.connect(configuration)
    }

    /// Sends `count` creates `parent/<prefix>-<i>` at once; returns the acknowledged ones with their czxid.
    static func createAll(_ client: ZooKeeperClient, _ parent: String, prefix: String, count: Int) async -> [String: Int64] {
        await withTaskGroup(of: (String, Int64)?.self) { group in
            for index in 0..<count {
                group.addTask { await create(client, parent, "\(prefix)-\(index)") }
            }
            var acknowledged: [String: Int64] = [:]
            for await result in group { if let (name, zxid) = result { acknowledged[name] = zxid } }
            return acknowledged
        }
    }

    static func create(_ client: ZooKeeperClient, _ parent: String, _ name: String) async -> (String, Int64)? {
        guard let path = try? ZNodePath("\(parent)/\(name)"),
              let (_, stat) = try? await client.createReturningStat(path, data: [], mode: .persistent, ttl: nil)
        else { return nil }
        return (name, stat.czxid)
    }

    /// Retries a create (`<prefix>-<attempt>`, a new name each time, since a create whose reply was lost
    /// may still be applied) until one is acknowledged, bounded: how long a majority takes to serve again.
    static func firstAcknowledged(
        _ client: ZooKeeperClient, _ parent: String, prefix: String, within: Duration
    ) async throws -> (name: String, zxid: Int64, after: Duration) {
        let start = clock.now
        var attempt = 0
        while clock.now - start < within {
            if let (name, zxid) = await create(client, parent, "\(prefix)-\(attempt)") { return (name, zxid, clock.now - start) }
            attempt += 1
            try await Task.sleep(for: .milliseconds(50))  // a retry interval, not a synchronisation
        }
        throw TimeoutError(duration: within, what: "no create acknowledged through the majority")
    }

    /// Established connections to a member's quorum or election port opened by another process than this
    /// one (whose proxies carry every peer link): links that bypass the proxies, as `ss` lists them. Nil
    /// when `ss` is not there to ask (the check is skipped).
    static func bypassingConnections(_ links: PeerPartitions) async -> [String]? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/ss"),
              let run = try? await runTool("/usr/bin/ss", ["-tnpH", "state", "established"], timeout: .seconds(10)),
              run.exitCode == 0
        else { return nil }
        var memberPorts: Set<Int> = []
        for node in 0..<3 {
            memberPorts.insert(links.ports[node * 3 + 1])
            memberPorts.insert(links.ports[node * 3 + 2])
        }
        let me = "pid=\(getpid()),"
        var bypassing: [String] = []
        for line in run.output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 5, let text = fields[3].split(separator: ":").last, let port = Int(text) else { continue }
            if memberPorts.contains(port) && !line.contains(me) { bypassing.append(String(line)) }
        }
        return bypassing
    }

    static func mode(_ server: String) -> String? { EnsemblePauseTests.mode(server) }

    /// The leader's `zk_synced_followers` (mntr): the learners it still counts.
    static func syncedFollowers(_ server: String) -> Int? {
        let parts = server.split(separator: ":")
        guard let port = Int(parts[1]),
              let text = try? sendFourLetterWord("mntr", host: String(parts[0]), port: port, timeout: .seconds(1)),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("zk_synced_followers") })
        else { return nil }
        return line.split(whereSeparator: { $0 == "\t" || $0 == " " }).last.flatMap { Int($0) }
    }

    /// Waits until `server`'s mode is not `mode` any more; returns how long that took.
    static func timeUntil(_ server: String, leaves mode: String, within: Duration) async throws -> Duration {
        let start = clock.now
        try await eventually(within: within, pollEvery: .milliseconds(25)) { Self.mode(server) != mode }
        return clock.now - start
    }

    /// `parent`'s children as `server` alone has them (after a sync through it).
    static func children(of parent: String, on server: String, tickTime: Int) async throws -> Set<String> {
        let client = try await client([server], tickTime: tickTime)
        return try await withCleanup({ await client.close() }) {
            let path = try ZNodePath(parent)
            _ = try await client.sync(path)
            return Set(try await client.getChildren(path))
        }
    }

    /// Waits until every member has the same children of `parent`, read from each member alone; returns them.
    static func converged(_ parent: String, servers: [String], tickTime: Int, within: Duration) async throws -> Set<String> {
        var trees: [Set<String>] = []
        try await eventually(within: within, pollEvery: .milliseconds(100)) {
            trees = []
            for server in servers {
                guard let tree = try? await children(of: parent, on: server, tickTime: tickTime) else { return false }
                trees.append(tree)
            }
            return Set(trees).count == 1
        }
        return trees[0]
    }

    static func seconds(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return String(format: "%.2f s", Double(ms) / 1000)
    }
}
