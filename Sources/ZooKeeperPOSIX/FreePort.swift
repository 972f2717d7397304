import Foundation
import Synchronization

/// Free loopback ports for servers a process starts itself (embedded ensembles, tests).
package enum FreePort {
    /// Ports this process has handed out: never twice, so two callers choosing at once get different ones.
    private static let handedOut = Mutex<Set<Int>>([])

    /// A port that was free on 127.0.0.1 a moment ago, for a server the caller starts next.
    ///
    /// Chosen below the kernel's ephemeral range (`ip_local_port_range`, 32768– on Linux): a port from
    /// that range (what listening on port 0 gives) may be handed to any outgoing connection between this
    /// choice and the server's bind, and the server then fails with "address in use" (seen under parallel
    /// ensemble tests). And below 21384: `docker/local-ensemble.sh` takes its nodes' ports from 21384 up, so a
    /// port chosen here is never one of a node that is down for a restart. Another process can still take
    /// the port: callers that can should retry on "address in use".
    package static func loopback() throws(SocketError) -> Int {
        let ceiling = min(ephemeralLow(), 21_384)
        for _ in 0..<500 {
            let candidate = Int.random(in: 10_000..<ceiling)
            guard handedOut.withLock({ $0.insert(candidate).inserted }) else { continue }
            if let socket = try? Socket.listen(host: "127.0.0.1", port: candidate, backlog: 1) {
                socket.close()
                return candidate
            }
        }
        // Nothing free below the ephemeral range: one the kernel picks.
        let socket = try Socket.listen(host: "127.0.0.1", port: 0, backlog: 1)
        defer { socket.close() }
        guard let port = socket.localAddress?.port, port != 0 else { throw .system(call: "getsockname", errno: EINVAL) }
        return port
    }

    /// The low end of the ephemeral port range (Linux; 32768 where it cannot be read).
    private static func ephemeralLow() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8),
              let low = text.split(whereSeparator: \.isWhitespace).first.flatMap({ Int($0) }), low > 11_000
        else { return 32_768 }
        return low
    }
}
