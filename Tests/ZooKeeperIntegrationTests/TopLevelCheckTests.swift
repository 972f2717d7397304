import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperProtocol
import ZooKeeperServer
import ZooKeeperTestSupport

/// A `check` (opcode 13) outside a multi: Apache 3.8.0 logs a CheckVersionTxn that its next start
/// cannot replay (ZOOKEEPER-2623) and never answers a passing one; 3.9 refuses it as an unknown
/// opcode. Ours does what 3.9 does (README: deliberate differences from Apache ZooKeeper 3.8).
@Suite("A check outside multi", .timeLimit(.minutes(1)))
struct TopLevelCheckTests {
    @Test("is answered UNIMPLEMENTED (zxid -1) and the connection closed, whatever the version; nothing is logged; a restart replays the log")
    func refusedAsApache39Does() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shepherd-check-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = EmbeddedServer.defaultConfiguration
        configuration.dataDirectory = directory
        try await withEmbeddedServer(configuration: configuration) { server in
            _ = try await withZooKeeperClient(try ZooKeeperConfiguration(connectionString: server.connectString)) { zk in
                try await zk.create("/c", data: [1])
            }
            let zxidBefore = try Self.zxid(server)
            let port = server.port
            let versions: [Int32] = [-1, 0, 99]  // passing and failing checks alike
            for version in versions {
                let (reply, zxid, next) = try await onOwnThread {
                    let probe = try ProbeSession(port: port)
                    let reply = probe.send(.check, CheckVersionRequest(path: "/c", version: version))
                    let zxid = probe.lastReplyZxid
                    return (reply, zxid, probe.send(.exists, ExistsRequest(path: "/c", watch: false)))
                }
                #expect(reply == .answered(err: .unimplemented, body: []), "version \(version)")
                #expect(zxid == -1, "version \(version)")
                #expect(next == .closed, "version \(version): the connection stays open")
            }
            // Each probe's session is a createSession txn; the checks add none.
            #expect(try Self.zxid(server) == zxidBefore + Int64(versions.count), "a top-level check logged a transaction")

            // The client sends a check as a one-op multi, which every server answers.
            try await withZooKeeperClient(try ZooKeeperConfiguration(connectionString: server.connectString)) { zk in
                try await zk.check("/c", version: 0)
                #expect(await zkErrorCode { try await zk.check("/c", version: 5) } == .badVersion)
                #expect(await zkErrorCode { try await zk.check("/nope", version: 0) } == .noNode)
                #expect(zk.connectionState == .connected)
            }
        }
        let data = try await withEmbeddedServer(configuration: configuration) { restarted in
            try await withZooKeeperClient(try ZooKeeperConfiguration(connectionString: restarted.connectString)) { zk in
                try await zk.getData("/c").data
            }
        }
        #expect(data == [1], "the restarted server lost /c")
    }

    /// The last zxid, from `srvr`'s `Zxid: 0x…` line.
    static func zxid(_ server: EmbeddedServer) throws -> Int64 {
        let srvr = try sendFourLetterWord("srvr", host: "127.0.0.1", port: server.port, timeout: .seconds(5))
        guard let line = srvr.split(separator: "\n").first(where: { $0.hasPrefix("Zxid: 0x") }),
              let zxid = Int64(line.dropFirst("Zxid: 0x".count), radix: 16)
        else { throw TestSupportError("no Zxid in srvr: \(srvr)") }
        return zxid
    }
}
