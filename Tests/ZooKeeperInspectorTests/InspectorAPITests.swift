import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperHTTP
import ZooKeeperInspector
import ZooKeeperPOSIX
import ZooKeeperRecipes
import ZooKeeperServer
import ZooKeeperTestSupport

/// The inspector's HTTP API against our embedded server, through real sockets.
@Suite(.timeLimit(.minutes(2))) struct InspectorAPITests {
    @Test func servesThePageAndItsAssets() async throws {
        try await withInspector { fixture in
            let port = fixture.inspector.port
            let page = try await request("GET", port: port, "/")
            #expect(page.status == 200 && page.body.contains("<script src=\"/app.js\"></script>"))
            #expect(try await request("GET", port: port, "/app.js").body.contains("new EventSource(\"/api/events\")"))
            #expect(try await request("GET", port: port, "/app.css").status == 200)
            #expect(try await request("GET", port: port, "/../etc/passwd").status == 400)
            #expect(try await request("GET", port: port, "/nope").status == 404)
            let info = try await getJSON(port: port, "/api/info")
            #expect(info["allowWrites"] == .bool(false))
        }
    }

    @Test func nodeDetailsChildrenAndSearch() async throws {
        try await withInspector { fixture in
            let port = fixture.inspector.port
            try await fixture.client.create("/app")
            try await fixture.client.create("/app/config", data: Array(#"{"b":1,"a":[2]}"#.utf8))
            try await fixture.client.create("/app/raw", data: [0, 1, 2, 0xFF])
            let config = try await getJSON(port: port, "/api/node?path=/app/config")
            #expect(config["data"]?["text"] == .string(#"{"b":1,"a":[2]}"#))
            #expect(config["data"]?["json"]?.stringValue?.contains("\"b\" : 1") == true)
            let stat = try #require(config["stat"])
            #expect(stat.keys == ["czxid", "mzxid", "pzxid", "ctime", "ctimeText", "mtime", "mtimeText", "version", "cversion",
                                  "aversion", "ephemeralOwner", "dataLength", "numChildren"])
            #expect(stat["czxid"]?.stringValue?.hasPrefix("0x") == true)
            #expect(config["acl"]?.elements.first?["perms"] == .string("cdrwa"))
            let raw = try await getJSON(port: port, "/api/node?path=/app/raw")
            #expect(raw["data"]?["text"] == .null)
            #expect(raw["data"]?["hex"]?.stringValue?.hasPrefix("00000000  00 01 02 ff") == true)
            let children = try await getJSON(port: port, "/api/children?path=/app")
            #expect(children["children"]?.elements.compactMap { $0["name"]?.stringValue } == ["config", "raw"])
            #expect(try await request("GET", port: port, "/api/node?path=/missing").status == 404)
            #expect(try await request("GET", port: port, "/api/node?path=bad").status == 400)
            try await eventually(within: .seconds(10)) {
                let found = try await getJSON(port: port, "/api/search?prefix=/app/c")
                return found["paths"]?.elements == [.string("/app/config")]
            }
        }
    }

    @Test func recipesShowHolderWaitersInOrderAndLeader() async throws {
        try await withInspector { fixture in
            let port = fixture.inspector.port
            let holder = DistributedMutex(client: fixture.client, path: "/locks/orders")
            let lease = try await holder.acquire(timeout: .seconds(10))
            let waiterClients = [try await fixture.newClient(), try await fixture.newClient()]
            var waiting: [Task<Void, any Error>] = []
            for (index, waiterClient) in waiterClients.enumerated() {
                try await eventually(within: .seconds(10)) {
                    try await fixture.client.getChildren("/locks/orders").count == index + 1
                }
                waiting.append(Task {
                    let lease = try await DistributedMutex(client: waiterClient, path: "/locks/orders").acquire(timeout: .seconds(30))
                    try await lease.release()
                })
            }
            let latch = LeaderLatch(client: fixture.client, path: "/election", id: "scheduler-a")
            try await latch.start()
            defer { Task { [latch] in await latch.close() } }
            try await eventually(within: .seconds(10)) {
                let recipes = try await getJSON(port: port, "/api/recipes")["recipes"]?.elements ?? []
                let lock = recipes.first { $0["path"] == .string("/locks/orders") }
                return lock?["waiters"]?.elements.count == 2 && recipes.contains { $0["kind"] == .string("leaderLatch") }
            }
            let recipes = try await getJSON(port: port, "/api/recipes")["recipes"]?.elements ?? []
            let lock = try #require(recipes.first { $0["path"] == .string("/locks/orders") })
            #expect(lock["holders"]?.elements.first?["session"] == .string(fixture.client.session?.idHex ?? "?"))
            #expect(lock["waiters"]?.elements.compactMap { $0["session"]?.stringValue } == waiterClients.map { $0.session?.idHex ?? "?" })
            #expect(lock["facts"]?["fencingToken"] != nil)
            let election = try #require(recipes.first { $0["kind"] == .string("leaderLatch") })
            #expect(election["facts"]?["leader"] == .string("scheduler-a"))
            try await lease.release()
            for task in waiting { try await task.value }
            await latch.close()
            for waiterClient in waiterClients { await waiterClient.close() }
        }
    }

    @Test func writesAreRefusedUnlessAllowed() async throws {
        try await withInspector { fixture in
            let answer = try await request("POST", port: fixture.inspector.port, "/api/node?path=/x",
                                     headers: ["X-Shepherd-Inspector": "write"], body: "v")
            #expect(answer.status == 403)
            #expect(try await fixture.client.exists("/x") == nil)
        }
        try await withInspector(allowWrites: true) { (fixture: InspectorFixture) async throws in
            let port = fixture.inspector.port
            #expect(try await request("POST", port: port, "/api/node?path=/x", body: "v").status == 403, "no write header: refused")
            let allowed = ["X-Shepherd-Inspector": "write"]
            #expect(try await request("POST", port: port, "/api/node?path=/x", headers: allowed, body: "v1").status == 200)
            #expect(try await fixture.client.getData("/x").data == Array("v1".utf8))
            #expect(try await request("PUT", port: port, "/api/node?path=/x&version=0", headers: allowed, body: "v2").status == 200)
            #expect(try await request("PUT", port: port, "/api/node?path=/x&version=0", headers: allowed, body: "v3").status == 409)
            #expect(try await fixture.client.getData("/x").data == Array("v2".utf8))
            #expect(try await request("DELETE", port: port, "/api/node?path=/x", headers: allowed).status == 200)
            #expect(try await fixture.client.exists("/x") == nil)
        }
    }

    @Test func refusesForeignHostNames() async throws {
        try await withInspector { (fixture: InspectorFixture) async throws in
            let port = fixture.inspector.port
            #expect(try await request("GET", port: port, "/api/info", headers: ["Host": "evil.example:\(port)"]).status == 403,
                    "DNS rebinding: a foreign name for our loopback address")
            #expect(try await request("GET", port: port, "/api/info", headers: ["Host": "localhost:\(port)"]).status == 200)
        }
    }

    @Test func ensembleMembersThatRefuseOrAreDownShowTheirError() async throws {
        var refusing = EmbeddedServer.defaultConfiguration
        refusing.fourLetterWordWhitelist = ["ruok"]  // srvr and mntr refused, as an Apache server by default refuses mntr
        // Nothing listens on port 1 of the loopback address: connection refused.
        try await withInspector(server: refusing, extraMembers: [ServerAddress(host: "127.0.0.1", port: 1)]) { fixture in
            let events = try EventStreamClient(port: fixture.inspector.port)
            defer { events.close() }
            let ensemble = try await events.next(named: "ensemble")
            let members = ensemble["members"]?.elements ?? []
            #expect(members.count == 2)
            #expect(members.allSatisfy { $0["ok"] == .bool(false) })
            #expect(members.first?["error"]?.stringValue?.contains("4lw.commands.whitelist") == true, "\(members)")
            #expect(members.last?["error"]?.stringValue?.isEmpty == false)
        }
    }

    @Test func eventsStreamRecipesChangesAndTheEnsemble() async throws {
        try await withInspector { fixture in
            let events = try EventStreamClient(port: fixture.inspector.port)
            defer { events.close() }
            _ = try await events.next(named: "recipes")
            let ensemble = try await events.next(named: "ensemble")
            let member = try #require(ensemble["members"]?.elements.first)
            #expect(member["ok"] == .bool(true))
            #expect(member["mode"] == .string("standalone"))
            try await fixture.client.create("/live", data: Array("1".utf8))
            let change = try await events.next(named: "change") { $0["path"] == .string("/live") }
            #expect(change["type"]?.stringValue?.lowercased().contains("created") == true)
        }
    }
}

/// Reads a `text/event-stream` with bounded waits.
/// Used by one test task at a time, each call on a thread of its own that ends before the next call.
final class EventStreamClient: @unchecked Sendable {
    private let socket: Socket
    private var pending = ""
    /// The events read so far (for a failure's message).
    private var seen: [String] = []

    init(port: Int) throws {
        let address = try SocketAddress.resolve(host: "127.0.0.1", port: port)[0]
        socket = try Socket.connect(to: address, timeout: .seconds(5))
        try socket.writeAll(Array("GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: text/event-stream\r\n\r\n".utf8),
                            timeout: .seconds(5))
    }

    /// The data of the next event named `name` that `matches`, skipping others (read off the cooperative pool).
    func next(named name: String, timeout: Duration = .seconds(15),
              matching matches: @escaping @Sendable (JSONValue) -> Bool = { _ in true }) async throws -> JSONValue {
        try await offPool { [self] in try blockingNext(named: name, timeout: timeout, matching: matches) }
    }

    private func blockingNext(named name: String, timeout: Duration, matching matches: (JSONValue) -> Bool) throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            // Chunk framing lines are not `field: value` lines, so scanning the raw text for events works
            // once CRLFs (one Character in Swift) are plain line feeds.
            pending = pending.replacingOccurrences(of: "\r\n", with: "\n")
            while let end = pending.range(of: "\n\n") {
                let block = String(pending[..<end.lowerBound])
                pending = String(pending[end.upperBound...])
                let lines = block.split(separator: "\n").map(String.init)
                seen.append(lines.first { $0.hasPrefix("event: ") } ?? lines.last ?? "")
                guard lines.contains("event: \(name)") else { continue }
                let data = lines.filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }.joined(separator: "\n")
                if let value = try? JSONValue(parsing: data), matches(value) { return value }
            }
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero, try Poller.waitFor(fd: socket.fd, events: Poller.readable, timeout: left) else {
                throw InspectorTestError("no \(name) event within \(timeout); seen \(seen.suffix(10))")
            }
            switch try socket.read(into: &buffer) {
            case let .bytes(count): pending += String(decoding: buffer[0..<count], as: UTF8.self)
            case .wouldBlock: continue
            case .endOfFile: throw InspectorTestError("the event stream ended")
            }
        }
    }

    func close() { socket.close() }
}
