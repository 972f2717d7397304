import Foundation
import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Partitions of a Shepherd ensemble made with SIGSTOP/SIGCONT (a stopped process is a silent one: its
/// sockets stay open, nothing answers): a leader left in a minority acknowledges no write, and an old leader
/// that wakes up after the others elected a new one acknowledges none of the writes queued to it — and none
/// of them appears in the tree afterwards.
@Suite(.serialized, .timeLimit(.minutes(4)),
       .enabled(if: ShepherdServerProcess.binaryPath != nil, Comment(rawValue: ShepherdServerProcess.notBuiltMessage)))
struct EnsemblePauseTests {
    /// 400 ms ticks: followers give up on a silent leader after syncLimit (5) ticks, 2 s; a client's session
    /// may be up to 20 ticks (8 s), so it waits out an election without dropping its connection.
    static let tickTime = 400

    static func mode(_ server: String) -> String? { serverMode(server, timeout: .seconds(1)) }

    static func signal(_ ensemble: ApacheEnsemble, node: Int, _ signal: Int32) async throws {
        let text = try String(contentsOfFile: "\(ensemble.directory)/node\(node)/zk.pid", encoding: .utf8)
        guard let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw TestSupportError("no pid for node \(node)") }
        guard kill(pid, signal) == 0 else { throw TestSupportError("kill(\(pid), \(signal)) failed: errno \(errno)") }
        // kill(2) returns before every thread has stopped: writes sent "to a stopped leader" right after it were
        // once all acknowledged by a leader that was still running (seen in a loaded run).
        if signal == SIGSTOP {
            try await eventually(within: .seconds(10), pollEvery: .milliseconds(1)) { Self.isStopped(pid) }
        }
    }

    /// Whether every thread of `pid` is stopped (state T or t in /proc).
    static func isStopped(_ pid: pid_t) -> Bool {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        let states = tasks.compactMap { task -> Character? in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            return stat[close...].dropFirst(2).first  // the state field follows "(comm) "
        }
        return !states.isEmpty && states.allSatisfy { $0 == "T" || $0 == "t" }
    }

    static func client(_ server: String) async throws -> ZooKeeperClient {
        var configuration = try ZooKeeperConfiguration(connectionString: server)
        configuration.sessionTimeout = .milliseconds(tickTime * 20)
        return try await ZooKeeperClient.connect(configuration)
    }

    /// Creates `count` nodes under `parent` at once (pipelined on one connection): the acknowledged ones, by
    /// name, with the zxid that created them.
    static func createAll(_ client: ZooKeeperClient, _ parent: String, count: Int) async -> [String: Int64] {
        await withTaskGroup(of: (String, Int64)?.self) { group in
            for index in 0..<count {
                group.addTask {
                    let name = "w-\(index)"
                    guard let node = try? ZNodePath("\(parent)/\(name)"),
                          let (_, stat) = try? await client.createReturningStat(node, data: [], mode: .persistent, ttl: nil)
                    else { return nil }
                    return (name, stat.czxid)
                }
            }
            var acknowledged: [String: Int64] = [:]
            for await result in group { if let (name, zxid) = result { acknowledged[name] = zxid } }
            return acknowledged
        }
    }

    static func zxid(_ server: String) -> Int64? {
        let parts = server.split(separator: ":")
        guard let text = try? sendFourLetterWord("srvr", host: String(parts[0]), port: Int(parts[1])!, timeout: .seconds(1)),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Zxid: 0x") })
        else { return nil }
        return Int64(bitPattern: UInt64(line.dropFirst("Zxid: 0x".count), radix: 16) ?? 0)
    }

    @Test func aLeaderLeftInAMinorityAcknowledgesNoWrite() async throws {
        try await withApacheEnsemble(tickTime: Self.tickTime, shepherdNodes: [1, 2, 3]) { ensemble in
            let leader = try await ensemble.leader()
            let followers = [1, 2, 3].filter { $0 != leader }
            let client = try await Self.client(ensemble.servers[leader - 1])
            try await client.create("/minority")
            for node in followers { try await Self.signal(ensemble, node: node, SIGSTOP) }
            let acknowledged: [String: Int64]
            do {
                // Queued to the leader while its followers are silent: it can get no quorum of acks.
                acknowledged = await Self.createAll(client, "/minority", count: 20)
                // It stops leading within syncLimit ticks of losing its quorum.
                try await eventually(within: .seconds(10)) { Self.mode(ensemble.servers[leader - 1]) != "leader" }
            } catch {
                for node in followers { try? await Self.signal(ensemble, node: node, SIGCONT) }
                throw error
            }
            for node in followers { try await Self.signal(ensemble, node: node, SIGCONT) }
            #expect(acknowledged.isEmpty, "a minority leader acknowledged \(acknowledged.keys.sorted())")
            await client.close()
            try await ensemble.waitHealthy()
            let checker = try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectionString: ensemble.connectString))
            try await checker.create("/minority/after")  // the majority serves again
            await checker.close()
        }
    }

    @Test func anOldLeaderThatWakesUpAcknowledgesNothingAndLeavesNoTrace() async throws {
        try await withApacheEnsemble(tickTime: Self.tickTime, shepherdNodes: [1, 2, 3]) { ensemble in
            let old = try await ensemble.leader()
            let others = [1, 2, 3].filter { $0 != old }
            let client = try await Self.client(ensemble.servers[old - 1])
            try await client.create("/stale")
            let oldEpoch = try #require(Self.zxid(ensemble.servers[old - 1])) >> 32
            try await Self.signal(ensemble, node: old, SIGSTOP)
            // Writes to the old leader while it is stopped: they wait in its socket (the election below takes
            // seconds, the requests leave the client at once) and it reads them when it wakes, still thinking
            // it leads. The checks below hold whatever the interleaving.
            let pending = Task { await Self.createAll(client, "/stale", count: 20) }
            do {
                // The others elect a new leader while the old one is silent.
                try await eventually(within: .seconds(20), pollEvery: .milliseconds(50)) {
                    others.contains { Self.mode(ensemble.servers[$0 - 1]) == "leader" }
                }
            } catch {
                try? await Self.signal(ensemble, node: old, SIGCONT)
                throw error
            }
            try await Self.signal(ensemble, node: old, SIGCONT)
            let acknowledged = await pending.value
            await client.close()
            // Whatever was acknowledged was committed by a later leader, never by the woken one.
            let stale = acknowledged.filter { $0.value >> 32 <= oldEpoch }
            #expect(stale.isEmpty, "acknowledged in the old leader's epoch \(oldEpoch): \(stale)")
            try await ensemble.waitHealthy()
            // Nothing of them but what was acknowledged: no write the old leader took in is in the tree.
            let checker = try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectionString: ensemble.connectString))
            _ = try await checker.sync("/stale")
            let present = Set(try await checker.getChildren("/stale"))
            #expect(present == Set(acknowledged.keys), "in the tree: \(present.sorted()), acknowledged: \(acknowledged.keys.sorted())")
            await checker.close()
            print("EnsemblePauseTests: the old leader of epoch \(oldEpoch) woke up to 20 queued writes: \(acknowledged.count) acknowledged, all by a later leader")
        }
    }
}
