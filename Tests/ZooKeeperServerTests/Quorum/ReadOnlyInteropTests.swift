import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperProtocol
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// Read-only mode across implementations: Apache's Java client (`zkCli -r`) on our read-only member, and
/// our client on an Apache 3.8 read-only member (Debian jars).
@Suite(.serialized, .timeLimit(.minutes(4)),
       .enabled(if: ApacheZooKeeper.isInstalled, Comment(rawValue: ApacheZooKeeper.notInstalledMessage)))
struct ReadOnlyInteropTests {
    typealias Members = EnsembleClientTests.Members

    /// Runs one zkCli command (Apache's `ZooKeeperMain`, read-only allowed with `-r`); its output.
    static func zkCli(port: Int, _ command: [String]) async throws -> String {
        let arguments = ["-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                         "-Dlog4j.configuration=file:/dev/null",
                         "-cp", ApacheZooKeeper.classPath.joined(separator: ":"), "org.apache.zookeeper.ZooKeeperMain",
                         "-server", "127.0.0.1:\(port)", "-timeout", "4000", "-r"] + command
        return try await runTool(ApacheZooKeeper.javaPath, arguments, timeout: .seconds(60)).output
    }

    @Test func apachesClientReadsFromOurReadOnlyMember() async throws {
        let members = try await Members.start(readOnlyMode: true)
        do {
            let leader = try await members.settled()
            let survivor: Int64 = [1, 2, 3].first { $0 != leader }!
            let writer = try await members.client([survivor])
            try await writer.create("/ro", data: Array("written-before".utf8))
            await writer.close()
            for sid in [Int64(1), 2, 3] where sid != survivor { await members.stop(sid) }
            try await eventually(within: .seconds(15)) { members.mode(survivor) == "read-only" }

            let read = try await Self.zkCli(port: members.port(survivor), ["get", "/ro"])
            // zkCli prints the ConnectedReadOnly event from its event thread, which may lose the race with the
            // command's own output and the JVM's exit (seen in CI): the read itself is what must come back; the
            // write below proves the server is read-only.
            #expect(read.contains("written-before"), "\(read)")
            let write = try await Self.zkCli(port: members.port(survivor), ["create", "/x"])
            #expect(write.contains("Not a read-only call: /x"), "zkCli's words for NOTREADONLY: \(write)")
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }

    @Test func ourClientOnAnApacheReadOnlyMember() async throws {
        var servers: [String] = []
        for sid in 1...3 {
            servers.append("server.\(sid)=127.0.0.1:\(try SocketHelpers.freeLoopbackPort()):\(try SocketHelpers.freeLoopbackPort())")
        }
        // Apache reads the flag as a system property; its read-only server admits new sessions only local ones.
        let nodes = try (1...3).map { sid in
            try ApacheZooKeeper(configuration: .init(
                tickTime: 500, extraConfig: ["localSessionsEnabled=true"], javaOptions: ["-Dreadonlymode.enabled=true"],
                quorumMember: .init(myid: Int64(sid), serverLines: servers)))
        }
        defer { for node in nodes { node.cleanup() } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes { group.addTask { try await node.start() } }
            try await group.waitForAll()
        }
        let survivor = nodes[0]
        let isro = { () -> String? in try? sendFourLetterWord("isro", host: "127.0.0.1", port: survivor.port, timeout: .seconds(2)) }
        var plain = ZooKeeperConfiguration(servers: [ServerAddress(host: "127.0.0.1", port: survivor.port)])
        plain.sessionTimeout = .seconds(6)
        let writer = try await ZooKeeperClient.connect(plain)
        try await writer.create("/ro", data: Array("written-before".utf8))
        await writer.close()

        try await nodes[1].stop()
        try await nodes[2].stop()
        try await eventually(within: .seconds(30)) { isro() == "ro" }
        // What our read-only member prints, checked on Apache's.
        let word = { (word: String) -> String in
            (try? sendFourLetterWord(word, host: "127.0.0.1", port: survivor.port, timeout: .seconds(2))) ?? ""
        }
        let srvr = word("srvr")
        #expect(srvr.contains("\nREAD-ONLY mode; serving only read-only clients\nLatency min/avg/max:"), "\(srvr)")
        #expect(srvr.contains("\nMode: read-only\n"), "\(srvr)")
        #expect(word("stat").contains("\nREAD-ONLY mode; serving only read-only clients\nClients:\n"))
        #expect(word("mntr").contains("zk_server_state\tread-only\n"))
        #expect(!word("mntr").contains("zk_peer_state"), "a read-only server is no QuorumZooKeeperServer")
        let conf = word("conf")
        #expect(conf.hasSuffix("peerType=0\n"), "\(conf)")
        // The handshakes our member answers so: a client that did not ask for read-only is closed unanswered,
        // one that did gets a ConnectResponse with readOnly=true.
        let plainHandshake = try RawConnection(port: survivor.port)
        try plainHandshake.writeFrame(RawConnection.connectRequest())
        #expect(try plainHandshake.readFrame(within: .seconds(5)) == .closed)
        let readOnlyHandshake = try RawConnection(port: survivor.port)
        try readOnlyHandshake.writeFrame(Array(RawConnection.connectRequest().dropLast()) + [1])
        let answer = try readOnlyHandshake.readFrame(within: .seconds(5))
        if case let .frame(response) = answer {
            #expect(response.count == 37 && response.last == 1)
        } else {
            Issue.record("no ConnectResponse: \(answer)")
        }
        readOnlyHandshake.reset()

        var configuration = ZooKeeperConfiguration(servers: nodes.map { ServerAddress(host: "127.0.0.1", port: $0.port) })
        configuration.allowReadOnly = true
        configuration.sessionTimeout = .seconds(6)
        configuration.shuffleServers = false
        let reader = try await ZooKeeperClient.connect(configuration)
        #expect(reader.connectionState == .readOnly)
        #expect(try await reader.getData("/ro").data == Array("written-before".utf8))
        #expect(await ReadOnlyMemberTests.code { _ = try await reader.create("/x") } == .notReadOnly)
        #expect(await ReadOnlyMemberTests.code { _ = try await reader.sync("/ro") } == .notReadOnly)

        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes.dropFirst() { group.addTask { try await node.start() } }
            try await group.waitForAll()
        }
        try await eventually(within: .seconds(60)) { reader.connectionState == .connected }
        try await reader.create("/after")
        await reader.close()
    }

    static let python = "/usr/bin/python3"
    static var kazooInstalled: Bool {
        access(python, X_OK) == 0 && FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/kazoo/client.py")
    }

    /// kazoo with `read_only=True`: its state, a read and a write on a read-only server.
    static let kazooScript = #"""
        import sys
        from kazoo.client import KazooClient
        from kazoo.exceptions import NotReadOnlyCallError
        zk = KazooClient(hosts=sys.argv[1], read_only=True, timeout=4.0)
        zk.start(timeout=20)
        print("state", zk.client_state)
        print("data", zk.get("/ro")[0].decode())
        try:
            zk.create("/x")
            print("write accepted")
        except NotReadOnlyCallError:
            print("write NotReadOnlyCallError")
        zk.stop()
        zk.close()
        """#

    @Test(.enabled(if: kazooInstalled, "kazoo is not installed: apt-get install python3-kazoo (.ci/run does)"))
    func kazooReadsFromOurReadOnlyMember() async throws {
        let members = try await Members.start(readOnlyMode: true)
        do {
            let leader = try await members.settled()
            let survivor: Int64 = [1, 2, 3].first { $0 != leader }!
            let writer = try await members.client([survivor])
            try await writer.create("/ro", data: Array("written-before".utf8))
            await writer.close()
            for sid in [Int64(1), 2, 3] where sid != survivor { await members.stop(sid) }
            try await eventually(within: .seconds(15)) { members.mode(survivor) == "read-only" }

            let script = NSTemporaryDirectory() + "shepherd-kazoo-ro-\(UUID().uuidString).py"
            try Self.kazooScript.write(toFile: script, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: script) }
            let run = try await runTool(Self.python, [script, "127.0.0.1:\(members.port(survivor))"], timeout: .seconds(60))
            #expect(run.exitCode == 0, "\(run)")
            #expect(run.output.contains("state CONNECTED_RO\n"), "\(run.output)")
            #expect(run.output.contains("data written-before\n"), "\(run.output)")
            #expect(run.output.contains("write NotReadOnlyCallError\n"), "\(run.output)")
        } catch {
            await members.stopAll()
            throw error
        }
        await members.stopAll()
    }
}
