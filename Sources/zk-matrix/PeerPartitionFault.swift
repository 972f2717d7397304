import ZooKeeperTestSupport

/// ``Fault/peerPartition`` on an ensemble whose members reach each other through ``PeerPartitions``:
/// isolates the leader, then heals in the background once another member leads (so the scenario runs
/// on through the election and the move of the old leader's clients).
struct PeerPartitionFault: Sendable {
    let ensemble: ApacheEnsemble
    let links: PeerPartitions
    /// Bounds the wait for a new leader; the partition is healed then regardless.
    let electionBound: Duration = .seconds(60)

    /// Cuts the leader off; returns the task that heals (and reports how long the partition lasted).
    func inject() async throws -> Task<Void, Never> {
        let old = try await ensemble.leader()
        links.isolate(node: old)
        let start = ContinuousClock.now
        log("peer-partition: leader \(old) isolated")
        let servers = ensemble.servers
        let links = self.links
        let bound = electionBound
        return Task {
            let others = [1, 2, 3].filter { $0 != old }
            let elected = try? await Self.waitForLeader(among: others, servers: servers, within: bound)
            links.heal()
            let lasted = Outcome.seconds(ContinuousClock.now - start)
            log("peer-partition: \(elected.map { "node \($0) leads" } ?? "no new leader"); healed after \(lasted)")
        }
    }

    /// Polls the members' `srvr` until one of `nodes` says `Mode: leader`.
    static func waitForLeader(among nodes: [Int], servers: [String], within bound: Duration) async throws -> Int {
        var leader: Int?
        try await eventually(within: bound, pollEvery: .milliseconds(100)) {
            leader = nodes.first { serverMode(servers[$0 - 1], timeout: .seconds(1)) == "leader" }
            return leader != nil
        }
        guard let leader else { throw MatrixError("no leader among \(nodes)") }
        return leader
    }
}
