import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

/// What a leader cut off from its followers says about a session it no longer hears of: its session
/// tracker expires the session after its timeout (the followers' touches cannot reach it) and proposes the
/// close, which can never commit. A client resuming that session on the old leader meanwhile is told it
/// expired — Apache's leader answers the same (``apacheLeaderCallsALiveSessionExpired()``) — while the majority, which never saw
/// the close, still has the session and its ephemerals. So a "session expired" from a cut-off leader does
/// not mean the ephemerals are gone yet: they go when the new leader expires the session, a timeout later.
/// (zk-matrix's peer-partition fault uses ticks short enough that the old leader steps down first.)
@Suite(.serialized, .timeLimit(.minutes(3)),
       .enabled(if: ShepherdServerProcess.binaryPath != nil, Comment(rawValue: ShepherdServerProcess.notBuiltMessage)))
struct MinorityLeaderSessionTests {
    static let tickTime = 400
    /// 15 ticks (6 s) before anyone notices the cut: room for the old leader to expire a 2 s session first.
    static let extraConfig = ["syncLimit=15"]

    /// Resumes `session` on `port` with a bare handshake, then resets the connection (no closeSession):
    /// the timeout the server grants, 0 when it calls the session expired, nil when it does not answer.
    static func resume(_ session: SessionInfo, port: Int) -> Int32? {
        guard let connection = try? RawConnection(port: port, timeout: .seconds(1)) else { return nil }
        defer { connection.reset() }
        let request = RawConnection.int32(0) + RawConnection.int64(0) + RawConnection.int32(session.timeoutMilliseconds)
            + RawConnection.int64(session.id) + RawConnection.int32(16) + session.password + [0]
        guard (try? connection.writeFrame(request)) != nil,
              case .frame(let response)? = try? connection.readFrame(within: .seconds(1)), response.count >= 8
        else { return nil }
        return Int32(bigEndian: Array(response[4..<8]).withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })
    }

    static func port(_ server: String) -> Int { Int(server.split(separator: ":")[1])! }

    static func probe(shepherdNodes: [Int], label: String) async throws {
        try await withPeerPartitionedEnsemble(tickTime: tickTime, shepherdNodes: shepherdNodes, extraConfig: extraConfig) { ensemble, links in
            let leader = try await ensemble.leader()
            let follower = try #require([1, 2, 3].first { $0 != leader })
            let third = try #require([1, 2, 3].first { $0 != leader && $0 != follower })
            var configuration = try ZooKeeperConfiguration(connectionString: ensemble.servers[follower - 1])
            configuration.sessionTimeout = .seconds(2)
            let owner = try await ZooKeeperClient.connect(configuration)
            try await owner.create(ZNodePath("/owned"), mode: .ephemeral)
            let session = try #require(owner.session)

            links.isolate(node: leader)
            let cutAt = ContinuousClock.now
            // Points in the scenario, not synchronisation: the probe starts past the session's 2 s (+ tick
            // rounding) and is retried while a loaded machine leaves it unanswered, until well before the
            // followers give up on the leader (6 s).
            try await Task.sleep(for: .seconds(3))
            var oldLeaderSays: Int32?
            var stillLeading = false
            while (oldLeaderSays == nil || !stillLeading) && cutAt.duration(to: .now) < .milliseconds(5_500) {
                if oldLeaderSays == nil { oldLeaderSays = resume(session, port: port(ensemble.servers[leader - 1])) }
                stillLeading = PartitionProbes.mode(ensemble.servers[leader - 1]) == "leader"
            }
            try await eventually(within: .seconds(20), pollEvery: .milliseconds(25)) {
                PartitionProbes.mode(ensemble.servers[follower - 1]) == "leader"
                    || PartitionProbes.mode(ensemble.servers[third - 1]) == "leader"
            }
            let majoritySays = resume(session, port: port(ensemble.servers[third - 1]))
            links.heal()
            await owner.close()
            print("MinorityLeaderSessionTests[\(label)]: leader \(leader) cut off (still leading: \(stillLeading)); resuming a live 2 s session on it 4 s later: \(oldLeaderSays.map { $0 == 0 ? "expired" : "granted \($0) ms" } ?? "no answer"); on the majority after its election: \(majoritySays.map { $0 == 0 ? "expired" : "granted \($0) ms" } ?? "no answer")")
            #expect((majoritySays ?? 0) > 0, "the majority never closed the session, yet does not grant it")
            guard stillLeading else {
                // Seen twice in ~10 loaded runs, on our leader only (elected as node 2 both times): it had stopped
                // leading (or stopped answering) before the probe, well inside its 6 s syncLimit. Not a safety
                // problem — a leader that steps down early commits nothing more — but not Apache's timing either;
                // kept visible as a known issue, with the old leader's log. Seen again on 2026-12-05 with the log
                // showing the leader leading until its syncLimit: it had stopped *answering*, not leading — its
                // closeSession proposal was most likely being fsynced under the lock its client side needs for `srvr` and
                // handshakes, on a disk loaded by a parallel run. That lock no longer covers the fsync
                // (LeaderSlowDiskTests); the known issue stays until runs show it gone.
                let log = (try? String(contentsOfFile: "\(ensemble.directory)/node\(leader)/log/zookeeper.out", encoding: .utf8)) ?? ""
                withKnownIssue("the cut-off leader stepped down before its syncLimit", isIntermittent: true) {
                    Issue.record("old leader \(leader) not leading at the probe; its log:\n\(log.suffix(3000))")
                }
                return
            }
            #expect(oldLeaderSays == 0, "the cut-off leader no longer calls the session expired (Apache's does)")
        }
    }

    @Test func shepherdLeaderCallsALiveSessionExpired() async throws {
        try await Self.probe(shepherdNodes: [1, 2, 3], label: "shepherd")
    }

    @Test(.enabled(if: ApacheEnsemble.isInstalled, Comment(rawValue: ApacheEnsemble.notInstalledMessage)))
    func apacheLeaderCallsALiveSessionExpired() async throws {
        // Node 1 ours, 2-3 Apache: Apache's node 3 leads.
        try await Self.probe(shepherdNodes: [1], label: "apache leader, mixed")
    }
}
