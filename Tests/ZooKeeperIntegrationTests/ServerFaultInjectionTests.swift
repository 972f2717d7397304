import Foundation
import Synchronization
import Testing
import ZooKeeperClient
import ZooKeeperProtocol
import ZooKeeperServer
import ZooKeeperTestSupport

/// EmbeddedServer's fault injection, seen from our client.
@Suite("Embedded server fault injection", .timeLimit(.minutes(2)))
struct ServerFaultInjectionTests {
    @Test("expireSession: the client sees lost(sessionExpired); its ephemerals vanish for others")
    func expire() async throws {
        try await withEmbeddedServer(inMemory: true) { server in
            let zk = try await connectClient(server.connectString)
            let other = try await connectClient(server.connectString)
            try await zk.create("/eph", mode: .ephemeral)
            let states = zk.connectionStates()
            await server.expireSession(try #require(zk.session?.id))
            try await waitForState(states, within: .seconds(15), "lost(sessionExpired)") { $0 == .lost(.sessionExpired) }
            #expect(try await other.exists("/eph") == nil)
            await closeBounded(zk)
            await closeBounded(other)
        }
    }

    @Test("dropConnection: the client reconnects to the same session")
    func drop() async throws {
        try await withEmbeddedServer(inMemory: true) { server in
            let zk = try await connectClient(server.connectString)
            let id = zk.session?.id
            try await zk.create("/eph", mode: .ephemeral)
            let states = zk.connectionStates()
            await server.dropConnection(ofSession: try #require(id))
            try await waitForState(states, within: .seconds(15), "reconnected") { $0 == .reconnected }
            #expect(zk.session?.id == id)
            #expect(try await zk.exists("/eph")?.ephemeralOwner == id)
            await closeBounded(zk)
        }
    }

    @Test("pause longer than the client's read timeout: suspended, then reconnected to the same session")
    func pause() async throws {
        try await withEmbeddedServer(inMemory: true) { server in
            let zk = try await connectClient(server.connectString, sessionTimeout: .seconds(6))  // read timeout 4 s
            let id = zk.session?.id
            let states = zk.connectionStates()
            await server.pause(for: .seconds(5))
            try await waitForState(states, within: .seconds(10), "suspended") { $0 == .suspended }
            try await waitForState(states, within: .seconds(15), "reconnected") { $0 == .reconnected }
            #expect(zk.session?.id == id)
            _ = try await zk.exists("/")
            await closeBounded(zk)
        }
    }

    @Test("delayReplies: replies arrive late but complete, in order")
    func delay() async throws {
        try await withEmbeddedServer(inMemory: true) { server in
            let zk = try await connectClient(server.connectString)
            try await zk.create("/n", data: [0])
            await server.delayReplies(by: .milliseconds(300))
            let clock = ContinuousClock()
            let start = clock.now
            let order = Locked<[Int]>([])
            // Each request is sent before the next one starts; FIFO replies resume them in order.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 1...20 {
                    let sent = Locked(false)
                    group.addTask {
                        sent.update { $0 = true }
                        _ = try await zk.setData("/n", data: [UInt8(index)])
                        order.update { $0.append(index) }
                    }
                    try await eventually(within: .seconds(5), pollEvery: .milliseconds(1)) { sent.value }
                }
                try await group.waitForAll()
            }
            #expect(clock.now - start >= .milliseconds(300))
            let (data, stat) = try await zk.getData("/n")
            #expect(data == [20] && stat.version == 20, "the last write issued is the last applied")
            #expect(order.value.count == 20)
            await server.delayReplies(by: nil)
            await closeBounded(zk)
        }
    }

    @Test("loseNextReply on a create: the client gets connectionLoss but the node exists")
    func lostReply() async throws {
        try await withEmbeddedServer(inMemory: true) { server in
            let zk = try await connectClient(server.connectString)
            await server.loseNextReply { op, path in (op == .create || op == .create2) && path == "/lost" }
            let code = await zkErrorCode { try await zk.create("/lost", data: Array("v".utf8)) }
            #expect(code == .connectionLoss)
            let data = try await retryingConnectionLoss { try await zk.getData("/lost").data }
            #expect(data == Array("v".utf8))
            await closeBounded(zk)
        }
    }

    @Test("partition: that client suspends, presumes expiry, then learns lost(sessionExpired) on heal; others unaffected")
    func partition() async throws {
        try await withEmbeddedServer(inMemory: true) { server in
            let zk = try await connectClient(server.connectString, sessionTimeout: .seconds(4))
            let other = try await connectClient(server.connectString)
            try await zk.create("/eph", mode: .ephemeral)
            let id = try #require(zk.session?.id)
            let states = zk.connectionStates()
            await server.partition(session: id)
            try await waitForState(states, within: .seconds(10), "suspended") { $0 == .suspended }
            try await waitForState(states, within: .seconds(15), "presumedExpired") { $0 == .presumedExpired }
            try await other.create("/still-serving")
            try await eventually(within: .seconds(15)) { try await other.exists("/eph") == nil }  // the server expired it
            #expect(await !server.sessionIDs().contains(id))
            await server.heal(session: id)
            try await waitForState(states, within: .seconds(15), "lost(sessionExpired)") { $0 == .lost(.sessionExpired) }
            #expect(other.connectionState == .connected)
            await closeBounded(zk)
            await closeBounded(other)
        }
    }
}
