import Foundation
import ZooKeeperPOSIX

/// `zk-server --status`: what `zkServer.sh status` prints, asked of the running server with `srvr`.
public struct ServerStatus: Sendable {
    public var host: String
    public var port: Int
    /// `standalone`, `leader`, `follower` or `observer`.
    public var mode: String

    /// Asks the server that `configuration` describes (its client address; for an ensemble member, the
    /// client port of its own server.N line, found through `myid`).
    public static func query(_ configuration: ServerConfiguration, timeout: Duration = .seconds(5)) throws -> ServerStatus {
        var host = configuration.clientPortAddress
        var port = configuration.clientPort
        if configuration.isEnsemble, let me = try configuration.quorum?.servers[ZooKeeperServer.memberID(configuration)] {
            port = me.clientPort ?? port
            host = me.clientHost ?? host
        }
        let answer: String
        do {
            answer = try Self.srvr(host: host == "0.0.0.0" ? "127.0.0.1" : host, port: port, timeout: timeout)
        } catch {
            throw ServerStartError("no server answers on \(host):\(port): \(error)")
        }
        guard let line = answer.split(separator: "\n").first(where: { $0.hasPrefix("Mode: ") }) else {
            throw ServerStartError("the server on \(host):\(port) is not serving: \(answer.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return ServerStatus(host: host, port: port, mode: String(line.dropFirst("Mode: ".count)))
    }

    private static func srvr(host: String, port: Int, timeout: Duration) throws -> String {
        guard let address = try SocketAddress.resolve(host: host, port: port).first else {
            throw ServerStartError("cannot resolve \(host)")
        }
        let socket = try Socket.connect(to: address, timeout: timeout)
        defer { socket.close() }
        try socket.writeAll(Array("srvr".utf8), timeout: timeout)
        // The server writes its answer and closes: read until the end of stream or the deadline.
        let deadline = ContinuousClock.now + timeout
        var answer: [UInt8] = []
        var scratch = [UInt8](repeating: 0, count: 4096)
        while true {
            switch try socket.read(into: &scratch) {
            case let .bytes(count): answer += scratch[0..<count]
            case .endOfFile: return String(decoding: answer, as: UTF8.self)
            case .wouldBlock:
                let left = ContinuousClock.now.duration(to: deadline)
                guard left > .zero, try Poller.waitFor(fd: socket.fd, events: Poller.readable, timeout: left) else {
                    throw ServerStartError("no complete answer to srvr within \(timeout)")
                }
            }
        }
    }
}
