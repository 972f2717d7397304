import Testing
import ZooKeeperPOSIX
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// Election over real loopback sockets: three in-process electors find a leader, elect a new one when it
/// dies, and a restarted peer joins the established leader instead of unseating it.
@Suite(.timeLimit(.minutes(1))) struct LeaderElectorTests {
    /// Listeners on free ports first, so the configuration names ports nobody else can take.
    static func electors(_ count: Int) throws -> (QuorumConfiguration, [Int64: Socket]) {
        var listeners: [Int64: Socket] = [:]
        for sid in 1...Int64(count) { listeners[sid] = try Socket.listen(host: "127.0.0.1", port: 0) }
        let configuration = try QuorumConfiguration(servers: listeners.map { sid, socket in
            QuorumServer(id: sid, host: "127.0.0.1", quorumPort: 1, electionPort: socket.localAddress!.port)
        })
        return (configuration, listeners)
    }

    static func elector(_ sid: Int64, _ configuration: QuorumConfiguration, _ listener: Socket) throws -> LeaderElector {
        let elector = try LeaderElector(
            settings: .init(myID: sid, configuration: configuration, connectTimeout: .seconds(2)), listener: listener)
        elector.start()
        return elector
    }

    static func elect(_ electors: [Int64: LeaderElector], zxid: Int64 = 0, epoch: Int64 = 0) async throws -> [Int64: ElectionOutcome] {
        try await withTimeout(.seconds(20)) {
            try await withThrowingTaskGroup(of: (Int64, ElectionOutcome).self) { group in
                for (sid, elector) in electors {
                    group.addTask { (sid, try await elector.lookForLeader(lastLoggedZxid: zxid, currentEpoch: epoch)) }
                }
                var outcomes: [Int64: ElectionOutcome] = [:]
                for try await (sid, outcome) in group { outcomes[sid] = outcome }
                return outcomes
            }
        }
    }

    @Test func threePeersElectTheLargestSidThenFailOverAndRejoin() async throws {
        let (configuration, listeners) = try Self.electors(3)
        var electors: [Int64: LeaderElector] = [:]
        for sid in Int64(1)...3 { electors[sid] = try Self.elector(sid, configuration, listeners[sid]!) }
        do {
            let first = try await Self.elect(electors)
            #expect(first.mapValues(\.state) == [1: .following, 2: .following, 3: .leading])
            #expect(Set(first.values.map(\.vote.leader)) == [3])
            // The larger sid keeps each connection: every pair ends up with exactly one.
            try await eventually(within: .seconds(5)) { electors.values.allSatisfy { $0.connectedPeers.count == 2 } }
            for elector in electors.values { elector.updateElectionVote(peerEpoch: 1) }

            // The leader dies; the other two elect sid 2 (same history, larger sid).
            await electors[3]!.stop()
            electors[3] = nil
            let second = try await Self.elect(electors, zxid: 0x1_0000_0004, epoch: 1)
            #expect(second.mapValues(\.state) == [1: .following, 2: .leading])
            for elector in electors.values { elector.updateElectionVote(peerEpoch: 2) }

            // Sid 3 comes back with the old, shorter history: it must follow 2, not start a new round.
            let returning = try Self.elector(3, configuration, try Socket.listen(host: "127.0.0.1", port: configuration.servers[3]!.electionPort))
            electors[3] = returning
            let joined = try await withTimeout(.seconds(20)) {
                try await returning.lookForLeader(lastLoggedZxid: 0x1_0000_0002, currentEpoch: 1)
            }
            #expect(joined.state == .following && joined.vote.leader == 2 && joined.vote.peerEpoch == 2)
        } catch {
            for elector in electors.values { await elector.stop() }
            throw error
        }
        for elector in electors.values { await elector.stop() }
    }

    @Test func hostileBytesOnTheElectionPortAreShrugged() async throws {
        let (configuration, listeners) = try Self.electors(3)
        let elector = try Self.elector(1, configuration, listeners[1]!)
        defer { for (sid, listener) in listeners where sid != 1 { listener.close() } }
        do {
            let port = configuration.servers[1]!.electionPort
            let address = try SocketAddress.resolve(host: "127.0.0.1", port: port).first!
            // An unknown protocol version, an absurd address length, then a valid peer with a bad frame.
            for garbage: [UInt8] in [
                [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x12, 0x34] + Array(repeating: 0, count: 12),
                ElectionInitialMessage(sid: 2, addresses: []).encoded().prefix(16) + [0x7f, 0xff, 0xff, 0xff],
                ElectionInitialMessage(sid: 3, addresses: ["127.0.0.1:1"]).encoded() + [0x7f, 0, 0, 0],
            ] {
                let socket = try Socket.connect(to: address, timeout: .seconds(2))
                try socket.writeAll(Array(garbage), timeout: .seconds(2))
                // The elector closes the connection: we read end-of-stream.
                var buffer = [UInt8](repeating: 0, count: 64)
                try await eventually(within: .seconds(5)) {
                    if case .endOfFile = try socket.read(into: &buffer) { return true }
                    return false
                }
                socket.close()
            }
            #expect(elector.connectedPeers.isEmpty)
        } catch {
            await elector.stop()
            throw error
        }
        await elector.stop()
    }
}
