import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// `readonlymode.enabled` on an ensemble of our servers (in this process): a member left alone serves
/// read-only clients from its last committed data, refuses writes with NOTREADONLY and other clients
/// outright, and serves normally again once the quorum is back, its read-only clients moving with it.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ReadOnlyMemberTests {
    typealias Members = EnsembleClientTests.Members

    static func fourLetterWord(_ word: String, _ members: Members, _ sid: Int64) -> String? {
        try? sendFourLetterWord(word, host: "127.0.0.1", port: members.port(sid), timeout: .seconds(2))
    }

    static func code(of operation: () async throws -> Void) async -> ZooKeeperError.Code? {
        do {
            try await operation()
            return nil
        } catch let error as ZooKeeperError {
            return error.code
        } catch {
            return nil
        }
    }

    static func readOnlyClient(_ members: Members, _ sids: [Int64]) async throws -> ZooKeeperClient {
        var configuration = ZooKeeperConfiguration(servers: sids.map { ServerAddress(host: "127.0.0.1", port: members.port($0)) })
        configuration.allowReadOnly = true
        configuration.sessionTimeout = .seconds(4)
        configuration.shuffleServers = false
        return try await ZooKeeperClient.connect(configuration)
    }

    @Test func aLoneMemberServesReadOnlyClientsUntilTheQuorumIsBack() async throws {
        let members = try await Members.start(readOnlyMode: true)
        do {
            let leader = try await members.settled()
            let survivor: Int64 = [1, 2, 3].first { $0 != leader }!
            let others: [Int64] = [1, 2, 3].filter { $0 != survivor }
            let writer = try await members.client([survivor])
            try await writer.create("/ro", data: Array("before".utf8))
            await writer.close()
            #expect(Self.fourLetterWord("isro", members, survivor) == "rw")

            for sid in others { await members.stop(sid) }
            try await eventually(within: .seconds(15)) { members.mode(survivor) == "read-only" }
            #expect(Self.fourLetterWord("isro", members, survivor) == "ro")
            let stat = Self.fourLetterWord("stat", members, survivor) ?? ""
            #expect(stat.contains("\nREAD-ONLY mode; serving only read-only clients\nClients:\n"), "\(stat)")
            let mntr = Self.fourLetterWord("mntr", members, survivor) ?? ""
            #expect(mntr.contains("zk_server_state\tread-only\n") && !mntr.contains("zk_peer_state"), "\(mntr)")
            let conf = Self.fourLetterWord("conf", members, survivor) ?? ""
            #expect(conf.hasSuffix("peerType=0\n"), "a read-only server's conf has no membership: \(conf)")

            // A client that did not ask for a read-only server is closed without an answer.
            let plain = try RawConnection(port: members.port(survivor))
            try plain.writeFrame(RawConnection.connectRequest())
            #expect(try plain.readFrame(within: .seconds(5)) == .closed)
            // One that did gets a session, with readOnly=true in the ConnectResponse.
            let raw = try RawConnection(port: members.port(survivor))
            try raw.writeFrame(Array(RawConnection.connectRequest().dropLast()) + [1])
            let answer = try raw.readFrame(within: .seconds(5))
            guard case let .frame(response) = answer else {
                Issue.record("no ConnectResponse: \(answer)")
                throw TestSupportError("no ConnectResponse")
            }
            #expect(response.count == 37 && response.last == 1)
            raw.reset()

            let reader = try await Self.readOnlyClient(members, [survivor] + others)
            #expect(reader.connectionState == .readOnly)
            #expect(try await reader.getData("/ro").data == Array("before".utf8))
            let (absent, watch) = try await reader.existsWatching("/nothing")
            #expect(absent == nil, "a watch is registered")
            #expect(await Self.code { _ = try await reader.create("/x") } == .notReadOnly)
            #expect(await Self.code { _ = try await reader.setData("/ro", data: []) } == .notReadOnly)
            #expect(await Self.code { _ = try await reader.sync("/ro") } == .notReadOnly)
            #expect(try await reader.getData("/ro").data == Array("before".utf8), "the connection stays after a refusal")

            // The quorum comes back: the member serves reads and writes, its read-only clients move on.
            for sid in others { try await members.start(sid) }
            _ = try await members.settled(within: .seconds(30))
            #expect(Self.fourLetterWord("isro", members, survivor) == "rw")
            try await eventually(within: .seconds(30)) { reader.connectionState == .connected }
            try await reader.create("/after")
            #expect(try await reader.exists("/after") != nil)
            // The watch set on the read-only member came along (SetWatches on the new session) and fires.
            try await reader.create("/nothing")
            try await eventually(within: .seconds(10)) { watch.firedEvent != nil }
            #expect(watch.firedEvent?.type == .nodeCreated)
            await reader.close()
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }
}
