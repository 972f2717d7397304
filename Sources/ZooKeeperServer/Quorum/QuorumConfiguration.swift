/// One `server.N` line of an ensemble's configuration (Apache's `QuorumPeer.QuorumServer`).
public struct QuorumServer: Sendable, Hashable {
    /// Whether a member votes (`participant`) or only follows the stream (`observer`).
    public enum LearnerType: String, Sendable, Hashable {
        case participant
        case observer
    }

    /// The server id (`N`, matching that server's `myid`).
    public var id: Int64
    /// The host of the quorum and election ports, as written (IPv6 without brackets).
    public var host: String
    /// The port the leader accepts followers on.
    public var quorumPort: Int
    /// The port leader election runs on.
    public var electionPort: Int
    public var type: LearnerType
    /// The client address given after `;`, if any (otherwise the static `clientPort` applies).
    public var clientHost: String?
    public var clientPort: Int?

    public init(
        id: Int64, host: String, quorumPort: Int, electionPort: Int, type: LearnerType = .participant,
        clientHost: String? = nil, clientPort: Int? = nil
    ) {
        self.id = id
        self.host = host
        self.quorumPort = quorumPort
        self.electionPort = electionPort
        self.type = type
        self.clientHost = clientHost
        self.clientPort = clientPort
    }

    /// Parses the value of `server.<id>`: `host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]`.
    public init(id: Int64, parsing value: String) throws(QuorumConfigurationError) {
        func fail(_ why: String) -> QuorumConfigurationError {
            QuorumConfigurationError(key: "server.\(id)", message: "\(why) in \"\(value)\"")
        }
        let halves = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
        if halves[0].contains("|") {
            throw fail("several addresses need multiAddress.enabled, which is not supported")
        }
        var (host, rest) = try Self.splitHost(String(halves[0]), fail)
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3 else {
            throw fail("expected host:quorumPort:electionPort[:participant|observer]")
        }
        guard let quorumPort = Self.port(parts[0]), let electionPort = Self.port(parts[1]) else {
            throw fail("ports must be integers in 1...65535")
        }
        var type = LearnerType.participant
        if parts.count == 3 {
            guard let parsed = LearnerType(rawValue: parts[2].lowercased()) else {
                throw fail("\"\(parts[2])\" is neither participant nor observer")
            }
            type = parsed
        }
        host = host.isEmpty ? "0.0.0.0" : host
        self.init(id: id, host: host, quorumPort: quorumPort, electionPort: electionPort, type: type)
        if halves.count == 2 {
            let client = String(halves[1])
            // `;port` alone means the wildcard address, as Apache's `new InetSocketAddress(port)`.
            let (clientHost, clientPort) = client.contains(":") ? try Self.splitHost(client, fail) : ("0.0.0.0", client)
            guard let port = Self.port(clientPort) else { throw fail("bad client port") }
            self.clientHost = clientHost.isEmpty ? "0.0.0.0" : clientHost
            self.clientPort = port
        }
    }

    /// Splits `host:rest`, where an IPv6 host is bracketed.
    private static func splitHost(
        _ text: String, _ fail: (String) -> QuorumConfigurationError
    ) throws(QuorumConfigurationError) -> (String, String) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw fail("unterminated IPv6 address")
            }
            let host = String(text[text.index(after: text.startIndex)..<close])
            return (host, String(text[text.index(close, offsetBy: 2)...]))
        }
        guard let colon = text.firstIndex(of: ":") else { throw fail("expected host:port") }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    private static func port(_ text: String) -> Int? {
        guard let port = Int(text), (1...65535).contains(port) else { return nil }
        return port
    }

    /// `host` as Apache's `delimitedHostString` prints it (IPv6 in brackets).
    static func delimited(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    /// This member's line value as `QuorumServer.toString()` renders it.
    public var configValue: String {
        var text = "\(Self.delimited(host)):\(quorumPort):\(electionPort):\(type.rawValue)"
        if let clientHost, let clientPort { text += ";\(Self.delimited(clientHost)):\(clientPort)" }
        return text
    }

    /// The election address as sent in the election channel's initial message.
    public var electionAddress: String { "\(Self.delimited(host)):\(electionPort)" }
}

/// A configuration key that is missing, malformed or unsupported.
public struct QuorumConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var key: String
    public var message: String
    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }
    public var description: String { "\(key): \(message)" }
}

/// A static ensemble: its members and the majority rule (Apache's `QuorumMaj`).
///
/// Dynamic reconfiguration is not supported, so the version stays 0 for ever, as Apache's does with
/// `reconfigEnabled=false`. Sending any other version would make LOOKING Apache peers restart their
/// election whenever the member lists differ.
public struct QuorumConfiguration: Sendable, Hashable {
    public private(set) var servers: [Int64: QuorumServer]
    public var version: Int64 = 0

    public init(servers: [QuorumServer]) throws(QuorumConfigurationError) {
        var byID: [Int64: QuorumServer] = [:]
        for server in servers {
            guard byID.updateValue(server, forKey: server.id) == nil else {
                throw QuorumConfigurationError(key: "server.\(server.id)", message: "listed twice")
            }
        }
        guard byID.values.contains(where: { $0.type == .participant }) else {
            throw QuorumConfigurationError(key: "server.N", message: "no participant: an ensemble needs voting members")
        }
        self.servers = byID
    }

    /// The voting members' ids.
    public var votingMembers: Set<Int64> {
        Set(servers.values.filter { $0.type == .participant }.map(\.id))
    }

    /// Whether `sid` is a voting member (weight 1 in `QuorumMaj`).
    public func isVoter(_ sid: Int64) -> Bool { servers[sid]?.type == .participant }

    /// Whether the voting members among `ids` are more than half of all voting members.
    public func isQuorum(_ ids: some Sequence<Int64>) -> Bool {
        isQuorum(Set(ids))
    }

    /// ``isQuorum(_:)`` for distinct ids, without building sets: the leader asks it for every ACK.
    public func isQuorum(_ ids: Set<Int64>) -> Bool {
        var voters = 0
        for server in servers.values where server.type == .participant { voters += 1 }
        var acks = 0
        for id in ids where isVoter(id) { acks += 1 }
        return acks > voters / 2
    }

    /// `QuorumMaj.toString()`: one `server.N=…` line per member in id order, then `version=<hex>`, with no
    /// trailing newline. Apache peers compare this in election notifications.
    public var configString: String {
        var text = ""
        for id in servers.keys.sorted() {
            text += "server.\(id)=\(servers[id]!.configValue)\n"
        }
        return text + "version=" + String(version, radix: 16)
    }
}
