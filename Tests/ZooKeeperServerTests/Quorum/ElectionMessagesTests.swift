import Testing
import ZooKeeperProtocol
@testable import ZooKeeperServer

/// The election channel's bytes, checked against what Apache ZooKeeper 3.8.0 put on the wire
/// (a 3-node ensemble on 127.0.0.1, `server.N=127.0.0.1:2888N:3888N`).
@Suite struct ElectionMessagesTests {
    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.filter { $0.isHexDigit })
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }

    static let ensemble = try! QuorumConfiguration(servers: (1...3).map {
        QuorumServer(id: Int64($0), host: "127.0.0.1", quorumPort: 28880 + $0, electionPort: 38880 + $0)
    })

    @Test func configStringIsApaches() {
        #expect(Self.ensemble.configString == """
            server.1=127.0.0.1:28881:38881:participant
            server.2=127.0.0.1:28882:38882:participant
            server.3=127.0.0.1:28883:38883:participant
            version=0
            """)
        #expect(Self.ensemble.configString.utf8.count == 0x8a)
    }

    @Test func initialMessageMatchesApache() throws {
        let golden = Self.hex("ffffffffffff0000 0000000000000003 0000000f 3132372e302e302e313a3338383833")
        let message = ElectionInitialMessage(sid: 3, addresses: [Self.ensemble.servers[3]!.electionAddress])
        #expect(message.encoded() == golden)
        #expect(try ElectionInitialMessage.decode(golden[...]) == .message(message, length: golden.count))
        #expect(try ElectionInitialMessage.decode(golden.dropLast()) == .needMore)
    }

    @Test func initialMessageFormsAndRefusals() throws {
        // A bare sid: a pre-3.5 peer.
        #expect(try ElectionInitialMessage.decode(Self.hex("0000000000000007")[...])
            == .message(ElectionInitialMessage(sid: 7, addresses: []), length: 8))
        // V2 carries several addresses.
        var v2 = Self.hex("ffffffffffff0001 0000000000000002")
        let addresses = Array("a:1|b:2".utf8)
        v2 += Self.hex("00000007") + addresses
        #expect(try ElectionInitialMessage.decode(v2[...]) == .message(ElectionInitialMessage(sid: 2, addresses: ["a:1", "b:2"]), length: v2.count))
        // Unknown versions and absurd address lengths close the connection.
        #expect(throws: JuteDecodingError.self) { try ElectionInitialMessage.decode(Self.hex("ffffffffffff0005 0000000000000002 00000001 41")[...]) }
        #expect(throws: JuteDecodingError.self) { try ElectionInitialMessage.decode(Self.hex("ffffffffffff0000 0000000000000002 00000801")[...]) }
        #expect(throws: JuteDecodingError.self) { try ElectionInitialMessage.decode(Self.hex("ffffffffffff0000 0000000000000002 00000000")[...]) }
    }

    @Test func notificationMatchesApache() throws {
        let config = Array(Self.ensemble.configString.utf8)
        let golden = Self.hex("00000000 0000000000000003 0000000000000000 0000000000000001 0000000000000000 00000002 0000008a") + config
        let fresh = ElectionNotification(state: .looking, leader: 3, zxid: 0, electionEpoch: 1, peerEpoch: 0, config: config)
        #expect(fresh.encoded() == golden)
        #expect(golden.count == 182, "Apache frames it with length 0xb6")
        #expect(try ElectionNotification.decode(golden) == fresh)

        let reply = Self.hex("00000001 0000000000000002 000000010000000c 0000000000000002 0000000000000002 00000002 0000008a") + config
        let decoded = try ElectionNotification.decode(reply)
        #expect(decoded.state == .following && decoded.leader == 2 && decoded.zxid == 0x1_0000_000c)
        #expect(decoded.electionEpoch == 2 && decoded.peerEpoch == 2 && decoded.configText == Self.ensemble.configString)
    }

    @Test func legacyNotificationForms() throws {
        // 28 bytes: no peerEpoch, taken from the zxid's epoch.
        let short = Self.hex("00000002 0000000000000001 0000000300000005 0000000000000004")
        let old = try ElectionNotification.decode(short)
        #expect(old.peerEpoch == 3 && old.version == 0 && old.config == nil && old.state == .leading)
        // Exactly 40 bytes: peerEpoch, and whatever follows is not a version.
        let forty = short + Self.hex("0000000000000009 00000007")
        let noVersion = try ElectionNotification.decode(forty)
        #expect(noVersion.peerEpoch == 9 && noVersion.version == 0)
        // Version 1 carries no config even with bytes after it.
        let v1 = short + Self.hex("0000000000000009 00000001 00000005")
        #expect(try ElectionNotification.decode(v1).config == nil)
        // 36 bytes (peerEpoch, no room for the version Apache then reads) is malformed.
        #expect(throws: ElectionNotification.DecodingFailure.malformed) { try ElectionNotification.decode(short + Self.hex("0000000000000009")) }
    }

    @Test func malformedNotificationsAreDropped() {
        #expect(throws: ElectionNotification.DecodingFailure.tooShort(27)) { try ElectionNotification.decode(Array(repeating: 0, count: 27)) }
        var bad = ElectionNotification(state: .looking, leader: 1, zxid: 0, electionEpoch: 1, peerEpoch: 0, config: Array("x".utf8)).encoded()
        bad[0...3] = [0, 0, 0, 9]
        #expect(throws: ElectionNotification.DecodingFailure.unknownState(9)) { try ElectionNotification.decode(bad) }
        // FLEMalformedNotificationMessageTest: config lengths beyond the payload, negative, or truncated.
        for length: [UInt8] in [[0, 0, 0x7f, 0xff], [0xff, 0xff, 0xff, 0xfe], [0, 0, 0, 2]] {
            var message = ElectionNotification(state: .looking, leader: 1, zxid: 0, electionEpoch: 1, peerEpoch: 0, config: Array("x".utf8)).encoded()
            message.replaceSubrange(40..<44, with: length)
            #expect(throws: ElectionNotification.DecodingFailure.malformed) { try ElectionNotification.decode(message) }
        }
    }

    @Test func serverLinesParseLikeApache() throws {
        let plain = try QuorumServer(id: 1, parsing: "127.0.0.1:2888:3888")
        #expect(plain.configValue == "127.0.0.1:2888:3888:participant")
        let observer = try QuorumServer(id: 4, parsing: "zk4.example:2888:3888:observer;0.0.0.0:2181")
        #expect(observer.type == .observer && observer.clientPort == 2181)
        #expect(observer.configValue == "zk4.example:2888:3888:observer;0.0.0.0:2181")
        let portOnly = try QuorumServer(id: 2, parsing: "127.0.0.1:2888:3888;2182")
        #expect(portOnly.configValue == "127.0.0.1:2888:3888:participant;0.0.0.0:2182")
        let v6 = try QuorumServer(id: 3, parsing: "[::1]:2888:3888:participant;[::1]:2183")
        #expect(v6.host == "::1" && v6.electionAddress == "[::1]:3888" && v6.configValue == "[::1]:2888:3888:participant;[::1]:2183")
        for bad in ["127.0.0.1:2888", "127.0.0.1:x:3888", "127.0.0.1:2888:3888:voter", "a:1:2|b:1:2", "[::1:2888:3888", "h:1:2;h:0"] {
            #expect(throws: QuorumConfigurationError.self, "\(bad)") { try QuorumServer(id: 9, parsing: bad) }
        }
    }

    @Test func majorityCountsVotersOnly() throws {
        var servers = Self.ensemble.servers.values.sorted { $0.id < $1.id }
        servers.append(QuorumServer(id: 4, host: "127.0.0.1", quorumPort: 1, electionPort: 2, type: .observer))
        let configuration = try QuorumConfiguration(servers: servers)
        #expect(configuration.votingMembers == [1, 2, 3])
        #expect(configuration.isQuorum([1, 2]) && !configuration.isQuorum([1, 4]) && !configuration.isQuorum([3]))
        #expect(throws: QuorumConfigurationError.self) { try QuorumConfiguration(servers: [servers[0], servers[0]]) }
    }
}
