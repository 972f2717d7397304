import Foundation
import Testing
import ZooKeeperPOSIX
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// Our elector in one election with Apache ZooKeeper 3.8 peers (Debian jars): Apache counts our vote,
/// and we recognise Apache's established leader.
@Suite(.serialized, .timeLimit(.minutes(3)),
       .enabled(if: ApacheZooKeeper.isInstalled, Comment(rawValue: ApacheZooKeeper.notInstalledMessage)))
struct ApacheElectionInteropTests {
    /// One sid is ours (pre-bound election and quorum listeners); the others are Apache's, on free ports.
    struct Mixed {
        var configuration: QuorumConfiguration
        var ours: Int64
        var ourListener: Socket
        var ourQuorumListener: Socket
        var apache: [Int64: ApacheZooKeeper] = [:]

        init(ours: Int64 = 1, apacheSids: [Int64], readyModes: Set<String>?) throws {
            self.ours = ours
            ourListener = try Socket.listen(host: "127.0.0.1", port: 0)
            ourQuorumListener = try Socket.listen(host: "127.0.0.1", port: 0)
            var servers = [QuorumServer(id: ours, host: "127.0.0.1", quorumPort: ourQuorumListener.localAddress!.port,
                                        electionPort: ourListener.localAddress!.port)]
            for sid in Int64(1)...3 where sid != ours {
                servers.append(QuorumServer(id: sid, host: "127.0.0.1", quorumPort: try SocketHelpers.freeLoopbackPort(),
                                            electionPort: try SocketHelpers.freeLoopbackPort()))
            }
            configuration = try QuorumConfiguration(servers: servers)
            let lines = servers.map { "server.\($0.id)=\($0.host):\($0.quorumPort):\($0.electionPort)" }
            for sid in apacheSids {
                apache[sid] = try ApacheZooKeeper(configuration: .init(
                    tickTime: 500, quorumMember: .init(myid: sid, serverLines: lines, readyModes: readyModes)))
            }
        }

        func elector() throws -> LeaderElector {
            let elector = try LeaderElector(settings: .init(myID: ours, configuration: configuration), listener: ourListener)
            elector.start()
            return elector
        }

        func startApache() async throws {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for node in apache.values { group.addTask { try await node.start() } }
                try await group.waitForAll()
            }
        }

        func cleanup() {
            for node in apache.values { node.cleanup() }
            ourQuorumListener.close()
        }

        func logs() -> String { apache.keys.sorted().map { "node \($0):\n" + apache[$0]!.logTail(maxBytes: 6000) }.joined(separator: "\n") }
    }

    @Test func weJoinAnApacheEnsembleAsFollowerOfItsLeader() async throws {
        let mixed = try Mixed(apacheSids: [2, 3], readyModes: ["leader", "follower"])
        defer { mixed.cleanup() }
        try await mixed.startApache()
        let elector = try mixed.elector()
        do {
            let outcome = try await withTimeout(.seconds(30)) {
                try await elector.lookForLeader(lastLoggedZxid: 0, currentEpoch: 0)
            }
            // Apache elected 3 (the larger sid with equal history) and says so with peerEpoch 1.
            #expect(outcome.state == .following, "\(mixed.logs())")
            #expect(outcome.vote.leader == 3 && outcome.vote.peerEpoch == 1)
        } catch {
            await elector.stop()
            Issue.record("\(error)\n\(mixed.logs())")
            return
        }
        await elector.stop()
    }

    @Test func ourVoteCompletesAnApacheQuorum() async throws {
        // Only Apache 2 runs: it needs our vote to reach a majority of three.
        let mixed = try Mixed(apacheSids: [2], readyModes: nil)
        defer { mixed.cleanup() }
        let elector = try mixed.elector()
        do {
            try await mixed.startApache()
            let outcome = try await withTimeout(.seconds(30)) {
                try await elector.lookForLeader(lastLoggedZxid: 0, currentEpoch: 0)
            }
            #expect(outcome.state == .following && outcome.vote.leader == 2, "\(mixed.logs())")
            // Apache took the lead on our vote (it then waits for us as a follower, which is a later increment).
            let node = mixed.apache[2]!
            try await eventually(within: .seconds(20)) {
                (try? String(contentsOfFile: node.logFile, encoding: .utf8))?.contains("LEADING - LEADER ELECTION TOOK") == true
            }
        } catch {
            await elector.stop()
            Issue.record("\(error)\n\(mixed.logs())")
            return
        }
        await elector.stop()
    }
}
