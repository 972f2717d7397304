import Foundation
import Testing
import ZooKeeperClient
import ZooKeeperHTTP
import ZooKeeperInspector
import ZooKeeperPOSIX
import ZooKeeperServer

/// An embedded server, a client for the test's own znodes, and an inspector on a free loopback port —
/// all stopped before ``withInspector(allowWrites:reports:_:)`` returns, however the body ends.
struct InspectorFixture: Sendable {
    let server: EmbeddedServer
    let client: ZooKeeperClient
    let inspector: ZooKeeperInspector

    /// A fresh client of the same server (a contender's own session).
    func newClient() async throws -> ZooKeeperClient {
        try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectionString: server.connectString))
    }
}

/// Where the page's render reports go (a type of its own, so a trailing closure is never taken for it).
struct ReportSink: Sendable {
    let receive: @Sendable (JSONValue) -> Void
}

func withInspector(allowWrites: Bool = false, reports: ReportSink? = nil,
                   server serverConfiguration: ServerConfiguration = EmbeddedServer.defaultConfiguration,
                   extraMembers: [ServerAddress] = [],
                   _ body: (InspectorFixture) async throws -> Void) async throws {
    try await withEmbeddedServer(configuration: serverConfiguration, inMemory: true) { server in
        let client = try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectionString: server.connectString))
        let configuration = InspectorConfiguration(
            port: 0, members: [ServerAddress(host: "127.0.0.1", port: server.port)] + extraMembers, allowWrites: allowWrites,
            ensembleInterval: .milliseconds(500), renderReports: reports?.receive)
        let inspector: ZooKeeperInspector
        do {
            inspector = try await ZooKeeperInspector.start(client: client, configuration: configuration)
        } catch {
            await client.close()
            throw error
        }
        do {
            try await body(InspectorFixture(server: server, client: client, inspector: inspector))
        } catch {
            await inspector.stop()
            await client.close()
            throw error
        }
        await inspector.stop()
        await client.close()
    }
}

/// Runs blocking socket work on a thread of its own: blocking the cooperative pool would starve the
/// inspector under test, which answers from that pool.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// One request with `Connection: close`, every wait bounded: status and body (off the cooperative pool).
func request(_ method: String, port: Int, _ target: String, headers: [String: String] = [:], body: String = "",
             timeout: Duration = .seconds(10)) async throws -> (status: Int, body: String) {
    try await offPool { try blockingRequest(method, port: port, target, headers: headers, body: body, timeout: timeout) }
}

func blockingRequest(_ method: String, port: Int, _ target: String, headers: [String: String] = [:], body: String = "",
             timeout: Duration = .seconds(10)) throws -> (status: Int, body: String) {
    let address = try SocketAddress.resolve(host: "127.0.0.1", port: port)[0]
    let socket = try Socket.connect(to: address, timeout: timeout)
    defer { socket.close() }
    var head = "\(method) \(target) HTTP/1.1\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n"
    if headers["Host"] == nil { head += "Host: 127.0.0.1:\(port)\r\n" }
    for (name, value) in headers { head += "\(name): \(value)\r\n" }
    try socket.writeAll(Array((head + "\r\n" + body).utf8), timeout: timeout)
    let deadline = ContinuousClock.now + timeout
    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 8192)
    while true {
        let left = ContinuousClock.now.duration(to: deadline)
        guard left > .zero, try Poller.waitFor(fd: socket.fd, events: Poller.readable, timeout: left) else {
            throw InspectorTestError("\(method) \(target): no complete answer within \(timeout)")
        }
        switch try socket.read(into: &buffer) {
        case let .bytes(count): reply += buffer[0..<count]
        case .wouldBlock: continue
        case .endOfFile:
            let text = String(decoding: reply, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n"),
                  let status = Int(text.split(separator: " ").dropFirst().first ?? "") else {
                throw InspectorTestError("\(method) \(target): not HTTP: \(text.prefix(120))")
            }
            return (status, String(text[end.upperBound...]))
        }
    }
}

/// `GET` answering JSON.
func getJSON(port: Int, _ target: String) async throws -> JSONValue {
    let answer = try await request("GET", port: port, target)
    guard answer.status == 200 else { throw InspectorTestError("GET \(target): \(answer.status) \(answer.body)") }
    return try JSONValue(parsing: answer.body)
}

struct InspectorTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension JSONValue {
    /// The elements of an array (empty otherwise).
    var elements: [JSONValue] {
        if case let .array(values) = self { return values }
        return []
    }

    var stringValue: String? {
        if case let .string(value) = self { return value }
        return nil
    }
}
