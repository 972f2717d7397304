import ZooKeeperProtocol
import ZooKeeperPOSIX

/// One server of the ensemble, as written in a connect string.
public struct ServerAddress: Hashable, Sendable, CustomStringConvertible {
    /// A host name, or a numeric IPv4 or IPv6 address (without brackets).
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// How a ``ZooKeeperClient`` connects: servers, chroot, timeouts, credentials, a session to resume.
public struct ZooKeeperConfiguration: Sendable {
    /// The ensemble. The client shuffles it once, then tries the servers in turn.
    public var servers: [ServerAddress]
    /// A path prefix applied to every path in requests, replies and watch events (`host:port/chroot`).
    public var chroot: String?
    /// The session timeout asked for; the server clamps it to its own `[minSessionTimeout, maxSessionTimeout]`.
    public var sessionTimeout: Duration = .seconds(30)
    /// How long before the earliest instant the server may expire the session the client publishes
    /// ``ConnectionState/presumedExpired`` (and so lock and leadership bodies are cancelled).
    ///
    /// The client never knows when a server last heard from it, but each reply proves a lower bound
    /// (the send time of the ping or request it answers); the server cannot expire the session before
    /// that instant plus the negotiated timeout. `.presumedExpired` fires at that instant minus this
    /// margin, on its own timer, whatever the connection is doing. `nil` (the default): a tenth of the
    /// negotiated timeout, at least 100 ms, at most a third of it. The margin must cover this process's
    /// scheduling delays (timer lateness, the time a body takes to notice cancellation); Apache rounds
    /// expiry up to the next tick, which only adds slack.
    public var sessionExpiryMargin: Duration?
    /// How long one TCP connect plus handshake may take. `nil`: session timeout ÷ number of servers (the Java client's rule).
    public var connectTimeout: Duration?
    /// How long `withZooKeeperClient` waits for the first session before giving up.
    public var initialConnectionTimeout: Duration = .seconds(15)
    /// Accept a read-only server (a partitioned minority with `readonlymode.enabled`).
    public var allowReadOnly = false
    /// Credentials sent with `AuthPacket` on every (re)connect, before any request.
    public var authentication: [AuthInfo] = []
    /// A saved session to resume instead of creating a new one.
    public var session: SessionInfo?
    /// The largest reply frame accepted (the Java client's `jute.maxbuffer`, default 0xfffff).
    public var maxFrameLength: Int = JuteReader.defaultMaxLength
    /// Whether to shuffle ``servers`` (turn off for deterministic tests).
    public var shuffleServers = true
    /// Receives the client's log lines. Silent by default.
    public var logHandler: ZooKeeperLogHandler = .disabled
    /// Resolves a host name to addresses (tests replace it; `nil`: `getaddrinfo`, off the I/O thread).
    var addressResolver: PendingResolution.Resolver?

    /// Creates a configuration from explicit servers.
    public init(servers: [ServerAddress], chroot: String? = nil) {
        self.servers = servers
        self.chroot = chroot
    }

    /// Parses a connect string: `host:port[,host:port...][/chroot]`. IPv6 hosts go in brackets: `[::1]:2181`.
    /// A missing port means 2181.
    /// - Throws: ``ZooKeeperError`` with code `.badArguments` on a malformed string or chroot.
    public init(connectionString: String) throws(ZooKeeperError) {
        var hostsPart = Substring(connectionString)
        var chroot: String?
        if let slash = connectionString.firstIndex(of: "/") {
            hostsPart = connectionString[..<slash]
            let root = String(connectionString[slash...])
            if root != "/" {
                do { _ = try ZNodePath(root) } catch {
                    throw ZooKeeperError(.badArguments, path: root, message: "invalid chroot: \(error.reason)")
                }
                chroot = root
            }
        }
        var servers: [ServerAddress] = []
        for item in hostsPart.split(separator: ",") {
            let entry = item.trimmingCharacters(in: " ")
            if entry.isEmpty { continue }
            servers.append(try Self.parseServer(entry, in: connectionString))
        }
        guard !servers.isEmpty else {
            throw ZooKeeperError(.badArguments, message: "connect string \"\(connectionString)\" names no server")
        }
        self.init(servers: servers, chroot: chroot)
    }

    private static func parseServer(_ entry: Substring, in whole: String) throws(ZooKeeperError) -> ServerAddress {
        func bad(_ why: String) -> ZooKeeperError {
            ZooKeeperError(.badArguments, message: "bad server \"\(entry)\" in \"\(whole)\": \(why)")
        }
        var host: Substring
        var portText: Substring?
        if entry.hasPrefix("[") {
            guard let close = entry.firstIndex(of: "]") else { throw bad("unclosed [") }
            host = entry[entry.index(after: entry.startIndex)..<close]
            let rest = entry[entry.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw bad("expected :port after ]") }
                portText = rest.dropFirst()
            }
        } else if entry.filter({ $0 == ":" }).count > 1 {
            host = entry  // a bare IPv6 address without a port
        } else if let colon = entry.lastIndex(of: ":") {
            host = entry[..<colon]
            portText = entry[entry.index(after: colon)...]
        } else {
            host = entry
        }
        guard !host.isEmpty else { throw bad("empty host") }
        var port = 2181
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else { throw bad("invalid port") }
            port = value
        }
        return ServerAddress(host: String(host), port: port)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in character: Character) -> Substring {
        var result = self
        while result.first == character { result = result.dropFirst() }
        while result.last == character { result = result.dropLast() }
        return result
    }
}

/// Credentials for `addauth`: a scheme (`digest`, `ip`, …) and its opaque bytes.
public struct AuthInfo: Hashable, Sendable, Codable {
    public var scheme: String
    public var auth: [UInt8]
    public init(scheme: String, auth: [UInt8]) {
        self.scheme = scheme
        self.auth = auth
    }
    /// Digest credentials, `user:password`.
    public static func digest(user: String, password: String) -> AuthInfo {
        AuthInfo(scheme: "digest", auth: Array("\(user):\(password)".utf8))
    }
}
