import Foundation
import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Our `zk-server` executable as a child process: SIGKILL mid-stream never loses an acknowledged
/// write, snapshots + logs recover, and a clean restart keeps sessions.
@Suite("zk-server durability (child process, fsync on)",
       .enabled(if: ShepherdServerProcess.binaryPath != nil, Comment(rawValue: ShepherdServerProcess.notBuiltMessage)),
       .timeLimit(.minutes(3)))
struct ServerDurabilityTests {
    static func payload(_ round: Int, _ index: Int) -> [UInt8] {
        Array("round \(round) write \(index) ".utf8) + [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 100 + index % 200)
    }

    @Test("kill -9 at a random moment: every acknowledged create survives, nothing half-applied (with snapshots: snapCount=100)")
    func killNineKeepsAcknowledgedWrites() async throws {
        let server = try ShepherdServerProcess(extraConfig: ["snapCount=100", "forceSync=yes"])
        defer { server.cleanup() }
        try await server.start()
        var allAcked: [(round: Int, index: Int)] = []
        for round in 0..<3 {
            let client = try await connectClient(server.connectString)
            if round == 0 { try await client.create("/d") }
            let acked = Locked<[Int]>([])
            let killed = Locked(false)
            let killAfter = Int.random(in: 150...800)
            let writer = Task {
                await withTaskGroup(of: Void.self) { group in
                    for index in 0..<4000 {
                        if index >= 64 { await group.next() }  // at most 64 in flight
                        group.addTask {
                            do {
                                try await client.create(try ZNodePath("/d/n-\(round)-\(index)"), data: Self.payload(round, index))
                                acked.update { $0.append(index) }
                            } catch {}
                        }
                        if Task.isCancelled || killed.value { break }  // stop issuing once the server is gone
                    }
                }
            }
            try await eventually(within: .seconds(60)) { acked.value.count >= killAfter }
            killed.update { $0 = true }
            server.kill()
            let inFlightEnded: Void? = try? await withTimeout(.seconds(30)) { await writer.value }
            #expect(inFlightEnded != nil, "round \(round): in-flight creates did not all end after the kill")
            writer.cancel()
            let ackedNow = acked.value
            allAcked += ackedNow.map { (round, $0) }
            await closeBounded(client)

            try await server.start()
            let checker = try await connectClient(server.connectString)
            let children = Set(try await checker.getChildren("/d"))
            let missing = allAcked.filter { !children.contains("n-\($0.round)-\($0.index)") }
            #expect(missing.isEmpty, "round \(round): acknowledged but lost after kill -9: \(missing.prefix(10)) (\(missing.count))\n\(server.logTail())")
            for name in children {
                let parts = name.split(separator: "-")
                let (r, i) = (Int(parts[1])!, Int(parts[2])!)
                let data = try await checker.getData(try ZNodePath("/d/" + name)).data
                #expect(data == Self.payload(r, i), "\(name) holds other data than was written")
            }
            print("[kill-9] round \(round): killed after \(ackedNow.count) acks; \(children.count) nodes recovered")
            await closeBounded(checker)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: server.dataDirectory + "/version-2")
        #expect(files.contains { $0.hasPrefix("snapshot.") }, "snapCount=100 took no snapshot: \(files)")
        #expect(files.contains { $0.hasPrefix("log.") }, "\(files)")
        server.stop()
    }

    @Test("SIGTERM and start again within the session timeout: same session resumes, its ephemeral stays")
    func sessionSurvivesGracefulRestart() async throws {
        let server = try ShepherdServerProcess()
        defer { server.cleanup() }
        try await server.start()
        let client = try await connectClient(server.connectString, sessionTimeout: .seconds(20))
        let sessionID = try #require(client.session?.id)
        try await client.create("/mine", data: Array("x".utf8), mode: .ephemeral)
        let states = client.connectionStates()
        let status = server.stop()
        #expect(status == 0, "zk-server did not exit cleanly on SIGTERM: \(status.map { "\($0)" } ?? "nil")\n\(server.logTail())")
        try await server.start()
        try await waitForState(states, within: .seconds(20), "reconnected") { $0 == .reconnected }
        #expect(client.session?.id == sessionID)
        let other = try await connectClient(server.connectString)
        let stat = try await other.exists("/mine")
        #expect(stat?.ephemeralOwner == sessionID, "the ephemeral is gone after a clean restart\n\(server.logTail())")
        await closeBounded(client)
        try await eventually(within: .seconds(10)) { try await other.exists("/mine") == nil }
        await closeBounded(other)
        server.stop()
    }
}
