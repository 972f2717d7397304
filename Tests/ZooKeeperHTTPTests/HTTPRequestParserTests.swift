import Testing
import ZooKeeperHTTP

@Suite struct HTTPRequestParserTests {
    private func parse(_ text: String, limits: HTTPRequestParser.Limits = .init()) -> HTTPRequestParser.Outcome {
        var parser = HTTPRequestParser(limits: limits)
        parser.append(Array(text.utf8))
        return parser.next()
    }

    private func failure(_ text: String, limits: HTTPRequestParser.Limits = .init()) -> HTTPParseError? {
        if case let .failure(error) = parse(text, limits: limits) { return error }
        return nil
    }

    @Test func parsesASimpleGet() throws {
        guard case let .request(request) = parse("GET /commands/stat?a=1&b=x+y HTTP/1.1\r\nHost: h\r\nX-A:  v \r\n\r\n") else {
            Issue.record("no request")
            return
        }
        #expect(request.method == "GET")
        #expect(request.pathSegments == ["commands", "stat"])
        #expect(request.header("x-a") == "v")
        #expect(request.query.map(\.name) == ["a", "b"])
        #expect(request.query.map(\.value) == ["1", "x y"])
        #expect(request.keepAlive)
    }

    @Test func keepAliveFollowsVersionAndConnectionHeader() {
        guard case let .request(closing) = parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"),
              case let .request(old) = parse("GET / HTTP/1.0\r\n\r\n"),
              case let .request(oldKept) = parse("GET / HTTP/1.0\nConnection: Keep-Alive\n\n") else {
            Issue.record("no request")
            return
        }
        #expect(!closing.keepAlive)
        #expect(!old.keepAlive)
        #expect(oldKept.keepAlive)
    }

    @Test func feedsByteByByteAndPipelines() {
        var parser = HTTPRequestParser()
        let text = "\r\nPOST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
        var requests: [HTTPRequest] = []
        for byte in text.utf8 {
            parser.append([byte])
            while case let .request(request) = parser.next() { requests.append(request) }
        }
        #expect(requests.map(\.path) == ["/a", "/b"])
        #expect(requests.first?.body == Array("hello".utf8))
        #expect(!parser.hasPartialRequest)
    }

    @Test func needsMoreUntilTheBodyIsComplete() {
        #expect(parse("PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc") == .needMore)
        #expect(parse("GET /x HTTP/1.1\r\nHost: h\r\n") == .needMore)
    }

    @Test func refusesMalformedRequests() {
        #expect(failure("GET /x\r\n\r\n")?.status == 400)
        #expect(failure("GET  /x HTTP/1.1\r\nHost: h\r\n\r\n")?.status == 400)
        #expect(failure("G(T /x HTTP/1.1\r\nHost: h\r\n\r\n")?.status == 400)
        #expect(failure("GET /x HTTP/1.1\r\n\r\n")?.status == 400, "no Host")
        #expect(failure("GET /x HTTP/1.1\r\nHost: h\r\nBad Name: v\r\n\r\n")?.status == 400)
        #expect(failure("GET /x HTTP/1.1\r\nHost: h\r\nX: a\r\n folded\r\n\r\n")?.status == 400)
        #expect(failure("GET /x HTTP/1.1\r\nHost: h\r\nX: a\u{01}b\r\n\r\n")?.status == 400)
        #expect(failure("GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n")?.status == 400)
        #expect(failure("GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")?.status == 400)
        #expect(failure("GET x HTTP/1.1\r\nHost: h\r\n\r\n")?.status == 400)
        #expect(failure("GET /x HTTP/2.0\r\nHost: h\r\n\r\n")?.status == 505)
        #expect(failure("GET /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")?.status == 501)
        #expect(failure("GET /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n")?.status == 400)
    }

    @Test func boundsEveryPart() {
        let limits = HTTPRequestParser.Limits(maxRequestLineBytes: 64, maxHeaderBytes: 256, maxHeaderCount: 4, maxBodyBytes: 10)
        #expect(failure("GET /" + String(repeating: "a", count: 100) + " HTTP/1.1\r\n", limits: limits)?.status == 414)
        #expect(failure("GET /" + String(repeating: "a", count: 100), limits: limits)?.status == 414, "no line end yet")
        #expect(failure("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 300), limits: limits)?.status == 431)
        let many = (0..<5).map { "X\($0): v\r\n" }.joined()
        #expect(failure("GET / HTTP/1.1\r\nHost: h\r\n" + many + "\r\n", limits: limits)?.status == 431)
        #expect(failure("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits: limits)?.status == 413)
    }

    @Test func failureIsFinal() {
        var parser = HTTPRequestParser()
        parser.append(Array("BAD\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n".utf8))
        #expect(parser.next() == .failure(.malformed("expected METHOD target HTTP/1.x")))
        #expect(parser.next() == .failure(.malformed("expected METHOD target HTTP/1.x")))
    }

    /// Random and mutated requests: the parser always answers (never traps), and never accepts a request
    /// whose path climbs above the root.
    @Test func survivesRandomInput() {
        var generator = SplitMix64(seed: 0x5EED)
        let seeds = ["GET /commands/stat HTTP/1.1\r\nHost: h\r\n\r\n",
                     "POST /a/../b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"]
        let alphabet = Array("GET /.%2e:\r\n \t\0HTTP/1.1Content-Length0123456789".utf8) + [0xFF, 0xC3]
        for round in 0..<3000 {
            var bytes = Array(seeds[round % seeds.count].utf8)
            for _ in 0..<(1 + Int(generator.next() % 6)) {
                let position = Int(generator.next() % UInt64(bytes.count + 1))
                let byte = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                switch generator.next() % 3 {
                case 0: bytes.insert(byte, at: position)
                case 1 where position < bytes.count: bytes.remove(at: position)
                default: if position < bytes.count { bytes[position] = byte }
                }
            }
            var parser = HTTPRequestParser(limits: .init(maxRequestLineBytes: 128, maxHeaderBytes: 512, maxHeaderCount: 8, maxBodyBytes: 64))
            var offset = 0
            while offset < bytes.count {
                let step = 1 + Int(generator.next() % 16)
                parser.append(bytes[offset..<min(bytes.count, offset + step)])
                offset += step
                if case let .request(request) = parser.next() {
                    #expect(!request.pathSegments.contains(".."))
                    #expect(request.path.hasPrefix("/"))
                }
            }
        }
    }
}

/// A tiny deterministic generator for the fuzz test.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
