import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperPOSIX
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// Strangers on the member-to-member ports of a running Shepherd ensemble (zk-server processes): a port
/// scan, a misconfigured peer, seeded junk — random bytes, well-framed packets of any type before any
/// LearnerInfo, lengths far beyond jute.maxbuffer, a FOLLOWERINFO from a sid outside the ensemble. Every such
/// connection is closed (at once, or after initLimit when it stalls mid-record), no member dies, the leader
/// keeps leading and writes commit on every member.
@Suite(.serialized, .timeLimit(.minutes(3)),
       .enabled(if: ShepherdServerProcess.binaryPath != nil, Comment(rawValue: ShepherdServerProcess.notBuiltMessage)))
struct PeerPortJunkTests {
    static let tickTime = 200

    static func encoded(_ packet: QuorumPacket) -> [UInt8] {
        var writer = JuteWriter()
        writer.write(packet)
        return writer.bytes
    }

    static func randomBytes(_ count: Int, _ random: inout SplitMix64) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    /// What strangers send to a leader's quorum port.
    static func quorumJunk(_ random: inout SplitMix64) -> [[UInt8]] {
        var cases: [[UInt8]] = []
        for _ in 0..<12 { cases.append(randomBytes(Int.random(in: 1...4096, using: &random), &random)) }
        for _ in 0..<12 {
            let packet = QuorumPacket(
                type: Int32.random(in: -3...32, using: &random), zxid: Int64.random(in: -1...Int64.max, using: &random),
                data: randomBytes(Int.random(in: 0...200, using: &random), &random))
            cases.append(encoded(packet))
        }
        // Declared lengths far beyond jute.maxbuffer: refused, never allocated.
        var hugeData = JuteWriter()
        hugeData.write(Int32(11))
        hugeData.write(Int64(0))
        hugeData.write(Int32.max)
        cases.append(hugeData.bytes)
        var hugeAuth = JuteWriter()
        hugeAuth.write(Int32(11))
        hugeAuth.write(Int64(0))
        hugeAuth.write(Int32(-1))
        hugeAuth.write(Int32.max)
        cases.append(hugeAuth.bytes)
        // Well-formed, from a sid the ensemble does not have; and a FOLLOWERINFO whose LearnerInfo is junk.
        var stranger = JuteWriter()
        LearnerInfo(serverid: 99, protocolVersion: 0x10000, configVersion: 0).encode(to: &stranger)
        cases.append(encoded(QuorumPacket(type: QuorumPacketType.followerInfo.rawValue, zxid: 0, data: stranger.bytes)))
        cases.append(encoded(QuorumPacket(type: QuorumPacketType.followerInfo.rawValue, zxid: 0, data: randomBytes(5, &random))))
        return cases
    }

    /// What strangers send to an election port.
    static func electionJunk(_ random: inout SplitMix64) -> [[UInt8]] {
        (0..<6).map { _ in randomBytes(Int.random(in: 1...2048, using: &random), &random) }
    }

    static func connect(_ port: Int) throws -> Socket {
        let address = try #require(try SocketAddress.resolve(host: "127.0.0.1", port: port).first)
        return try Socket.connect(to: address, timeout: .seconds(5))
    }

    @Test func junkOnPeerPortsIsClosedAndTheEnsembleServesOn() async throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        print("PeerPortJunkTests: seed \(seed)")
        var random = SplitMix64(seed: seed)
        try await withApacheEnsemble(tickTime: Self.tickTime, shepherdNodes: [1, 2, 3]) { ensemble in
            let leader = try await ensemble.leader()
            // client, quorum and election port of node 1, then 2, then 3
            let ports = try String(contentsOfFile: "\(ensemble.directory)/ports", encoding: .utf8)
                .split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
            try #require(ports.count == 9)
            var targets: [(port: Int, bytes: [UInt8])] = Self.quorumJunk(&random).map { (ports[(leader - 1) * 3 + 1], $0) }
            for node in 0..<3 { targets += Self.electionJunk(&random).map { (ports[node * 3 + 2], $0) } }

            // All at once: a stalled record is closed only after initLimit (2 s here), so one by one would be slow.
            var sockets: [Socket] = []
            defer { for socket in sockets { socket.close() } }
            for target in targets {
                let socket = try Self.connect(target.port)
                sockets.append(socket)
                try? socket.writeAll(target.bytes, timeout: .seconds(2))  // the member may close before reading it all
            }
            var open = Set(sockets.indices)
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            try await eventually(within: .seconds(20), pollEvery: .milliseconds(20)) {
                for index in open {
                    switch Result(catching: { () throws(SocketError) in try sockets[index].read(into: &buffer) }) {
                    case .success(.endOfFile), .failure: open.remove(index)  // closed, or reset
                    case .success: break  // an answer (LEADERINFO to the stranger) or nothing yet
                    }
                }
                return open.isEmpty
            }

            // No member died or lost its role, and the ensemble commits writes seen on every member.
            try await ensemble.waitHealthy()
            #expect(try await ensemble.leader() == leader, "the junk made the ensemble elect again")
            for (index, server) in ensemble.servers.enumerated() {
                let client = try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectionString: server))
                try await client.create(try ZNodePath("/after-junk-\(index)"))
                await client.close()
            }
            for server in ensemble.servers {
                let reader = try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectionString: server))
                _ = try await reader.sync("/")
                for index in ensemble.servers.indices {
                    #expect(try await reader.exists(try ZNodePath("/after-junk-\(index)")) != nil, "\(server) lacks /after-junk-\(index)")
                }
                await reader.close()
            }
            print("PeerPortJunkTests: \(targets.count) junk connections (seed \(seed)) closed; leader \(leader) kept leading")
        }
    }
}
