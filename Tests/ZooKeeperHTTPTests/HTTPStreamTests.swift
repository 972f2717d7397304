import Testing
import ZooKeeperHTTP
import ZooKeeperTestSupport

/// A one-shot flag a test waits on (bounded), set from any thread.
private final class Signal: Sendable {
    private let log = AwaitableLog<Bool>()

    func fire() { log.append(true) }

    /// True when fired within `timeout`.
    func wait(timeout: Duration) async -> Bool { await log.first(within: timeout) != nil }
}

@Suite struct HTTPStreamTests {
    /// `/events`: a stream that sends two events and stays open, reporting its close;
    /// `/finite`: a stream of one chunk that finishes; anything else: a plain answer.
    private func withStreamingServer(_ closed: Signal, _ body: (HTTPServer) async throws -> Void) async throws {
        let server = try HTTPServer(configuration: .init()) { (request: HTTPRequest, responder: HTTPResponder) in
            switch request.path {
            case "/events":
                let stream = responder.eventStream()
                stream.onClose { closed.fire() }
                stream.write(ServerSentEvent(event: "hello", data: "one\ntwo", id: "1"))
                stream.write(ServerSentEvent(data: "three"))
            case "/finite":
                let stream = responder.stream(headers: [HTTPHeader("Content-Type", "text/plain")])
                stream.write(Array("abc".utf8))
                stream.finish()
                #expect(!stream.write(Array("late".utf8)), "writes after finish are refused")
            default:
                responder.send(.text("plain"))
            }
        }
        server.start()
        do { try await body(server) } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func serverSentEventsStreamUntilTheClientLeaves() async throws {
        let closed = Signal()
        try await withStreamingServer(closed) { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
            let head = try #require(try client.read(through: "\r\n\r\n"))
            #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(head.contains("Content-Type: text/event-stream; charset=utf-8\r\n"))
            #expect(head.contains("Transfer-Encoding: chunked\r\n"))
            #expect(!head.contains("Content-Length"))
            let first = try #require(try client.read(through: "\n\n\r\n"))
            #expect(first.hasSuffix("event: hello\nid: 1\ndata: one\ndata: two\n\n\r\n"))
            let second = try #require(try client.read(through: "\n\n\r\n"))
            #expect(second.hasSuffix("data: three\n\n\r\n"))
            #expect(try client.read(through: "\n", timeout: .milliseconds(200)) == nil, "the stream stays open, idle")
            client.close()
            #expect(await closed.wait(timeout: .seconds(5)), "the handler learns that the client left")
        }
    }

    @Test func aFinishedStreamEndsItsChunkedBodyAndKeepsTheConnection() async throws {
        try await withStreamingServer(Signal()) { server in
            let client = try RawHTTPClient(port: server.port)
            defer { client.close() }
            try client.send("GET /finite HTTP/1.1\r\nHost: x\r\n\r\n")
            let all = try #require(try client.read(through: "0\r\n\r\n"))
            #expect(all.hasSuffix("\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
            try client.send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.response()?.body == "plain", "the connection serves the next request")
        }
    }

    @Test func http10StreamsAreUnframedAndClose() async throws {
        try await withStreamingServer(Signal()) { server in
            let client = try RawHTTPClient(port: server.port)
            defer { client.close() }
            try client.send("GET /finite HTTP/1.0\r\n\r\n")
            let all = try #require(try client.readToEnd())
            #expect(all.contains("Connection: close\r\n"))
            #expect(!all.contains("Transfer-Encoding"))
            #expect(all.hasSuffix("\r\n\r\nabc"))
        }
    }

    @Test func stoppingTheServerClosesOpenStreams() async throws {
        let closed = Signal()
        let server = try HTTPServer(configuration: .init()) { (_: HTTPRequest, responder: HTTPResponder) in
            responder.eventStream().onClose { closed.fire() }
        }
        server.start()
        let client = try RawHTTPClient(port: server.port)
        defer { client.close() }
        try client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try client.read(through: "\r\n\r\n")
        await server.stop()
        #expect(await closed.wait(timeout: .seconds(5)))
    }

    @Test func aClientThatStopsReadingIsLetGo() async throws {
        let closed = Signal()
        let configuration = HTTPServerConfiguration(writeTimeout: .seconds(2), maxStreamBuffer: 64 * 1024)
        let server = try HTTPServer(configuration: configuration) { (_: HTTPRequest, responder: HTTPResponder) in
            let stream = responder.stream(headers: [])
            stream.onClose { closed.fire() }
            // Far more than the socket buffers and our bound hold: the server must give up on this client.
            Task {
                let piece = [UInt8](repeating: 0x61, count: 16 * 1024)
                for _ in 0..<4000 where stream.write(piece) { await Task.yield() }
            }
        }
        server.start()
        let client = try RawHTTPClient(port: server.port)
        try client.send("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n")  // and never read
        let letGo = await closed.wait(timeout: .seconds(20))
        client.close()
        await server.stop()
        #expect(letGo, "the stream closes instead of buffering without bound")
    }

    @Test func eventsCannotBreakTheirFraming() {
        let event = ServerSentEvent(event: "a\nb", data: "x\r\ny\rz", id: "1\n2", retryMilliseconds: 500)
        #expect(event.serialized == "event: ab\nid: 12\nretry: 500\ndata: x\ndata: y\ndata: z\n\n")
        #expect(ServerSentEvent.comment("ping\n") == ": ping\n\n")
    }

    @Test func contentTypesByExtension() {
        #expect(HTTPContentType.forName("index.html") == "text/html; charset=utf-8")
        #expect(HTTPContentType.forName("app.js") == "text/javascript; charset=utf-8")
        #expect(HTTPContentType.forName("shot.png") == "image/png")
        #expect(HTTPContentType.forName("x.d/noext") == "application/octet-stream")
    }
}
