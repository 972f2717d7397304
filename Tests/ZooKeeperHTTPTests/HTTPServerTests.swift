import Synchronization
import Testing
import ZooKeeperHTTP

@Suite struct HTTPServerTests {
    /// Echoes the normalised path; `/slow` never answers (the handler timeout's case).
    private func withServer(_ configuration: HTTPServerConfiguration = .init(),
                            _ body: (HTTPServer) throws -> Void) async throws {
        let server = try HTTPServer(configuration: configuration) { (request: HTTPRequest, responder: HTTPResponder) in
            guard request.path != "/slow" else { return }
            responder.send(.text("path=\(request.path) body=\(request.body.count)"))
        }
        server.start()
        do { try body(server) } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func keepsTheConnectionAliveAndPipelines() async throws {
        try await withServer { server in
            let client = try RawHTTPClient(port: server.port)
            defer { client.close() }
            try client.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b/../c HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.response()?.body == "path=/a body=0")
            #expect(try client.response()?.body == "path=/c body=0")
            try client.send("POST /d HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
            let last = try client.response()
            #expect(last?.body == "path=/d body=3")
            #expect(last?.head.contains("Connection: close") == true)
            #expect(try client.closes())
        }
    }

    @Test func headGetsNoBody() async throws {
        try await withServer { server in
            let client = try RawHTTPClient(port: server.port)
            defer { client.close() }
            try client.send("HEAD /a HTTP/1.0\r\n\r\n")
            let answer = try #require(try client.readToEnd(), "HTTP/1.0 without keep-alive closes")
            #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(answer.contains("Content-Length: 14\r\n"), "the length GET would have")
            #expect(answer.hasSuffix("\r\n\r\n"), "no body follows the head")
        }
    }

    @Test func answersBadInputWithAClearStatus() async throws {
        let cases: [(String, Int)] = [
            ("GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("NONSENSE\r\n\r\n", 400),
            ("GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505),
            ("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
            ("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "b", count: 40_000) + "\r\n\r\n", 431),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n", 413),
        ]
        try await withServer { server in
            for (request, status) in cases {
                let client = try RawHTTPClient(port: server.port)
                defer { client.close() }
                try client.send(request)
                let response = try client.response()
                #expect(response?.status == status, "\(request.prefix(40))")
                #expect(response?.head.contains("Connection: close") == true)
                #expect(try client.closes())
            }
        }
    }

    @Test func timesOutSlowAndIdleClients() async throws {
        let configuration = HTTPServerConfiguration(requestTimeout: .milliseconds(300), idleTimeout: .milliseconds(300),
                                                    handlerTimeout: .milliseconds(300))
        try await withServer(configuration) { server in
            let slow = try RawHTTPClient(port: server.port)
            defer { slow.close() }
            try slow.send("GET /a HTTP/1.1\r\nHost: x\r\n")  // and never the empty line
            #expect(try slow.response()?.status == 408)

            let idle = try RawHTTPClient(port: server.port)
            defer { idle.close() }
            #expect(try idle.closes(), "a connection without a request is closed after the idle timeout")

            let stuck = try RawHTTPClient(port: server.port)
            defer { stuck.close() }
            try stuck.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try stuck.response()?.status == 503)

            let fine = try RawHTTPClient(port: server.port)
            defer { fine.close() }
            try fine.send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try fine.response()?.status == 200, "the server still serves others")
        }
    }

    @Test func refusesConnectionsOverTheLimit() async throws {
        try await withServer(HTTPServerConfiguration(maxConnections: 2)) { server in
            let first = try RawHTTPClient(port: server.port)
            let second = try RawHTTPClient(port: server.port)
            defer { first.close(); second.close() }
            // Both are accepted once a request round-trips on each.
            for client in [first, second] {
                try client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try client.response()?.status == 200)
            }
            let third = try RawHTTPClient(port: server.port)
            defer { third.close() }
            #expect(try third.response()?.status == 503)
        }
    }

    @Test func bindsLoopbackByDefault() throws {
        #expect(HTTPServerConfiguration().host == "127.0.0.1")
    }
}
