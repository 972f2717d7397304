import ZooKeeperClient
import ZooKeeperProtocol

/// What the fuzzer asks of the server between batches and across the final kill -9: `ruok`, a fresh
/// session doing real work, the canary, and the `srvr` figures. The checking client authenticates as
/// super (the fuzz cases cannot), so that ACLs the fuzz cases set never lock it out.
public struct FuzzServerChecks: Sendable {
    public let host: String
    public let port: Int
    /// The super password the server's `superDigest` was made from (``superDigestLine``).
    public let superPassword: String

    public static let canaryPath = "/fuzz-canary"
    public static let canaryLeaf = "/fuzz-canary/leaf"

    public init(host: String = "127.0.0.1", port: Int, superPassword: String) {
        self.host = host
        self.port = port
        self.superPassword = superPassword
    }

    /// The zoo.cfg line that makes `password` the super user's.
    public static func superDigestLine(password: String) -> String {
        "superDigest=" + Id.digest(user: "super", password: password).id
    }

    /// The canary's data for a run seeded with `seed`.
    public static func canaryData(seed: UInt64) -> [UInt8] { Array("canary of fuzz run \(seed)".utf8) }

    private func withClient<T: Sendable>(_ body: @escaping @Sendable (ZooKeeperClient) async throws -> T) async throws -> T {
        var configuration = ZooKeeperConfiguration(servers: [ServerAddress(host: host, port: port)])
        configuration.sessionTimeout = .seconds(4)
        configuration.initialConnectionTimeout = .seconds(10)
        configuration.authentication = [.digest(user: "super", password: superPassword)]
        let settings = configuration
        return try await withTimeout(.seconds(30)) {
            try await withZooKeeperClient(settings) { client in try await body(client) }
        }
    }

    /// Creates the fuzz subtree and the canary: a node that no fuzz case can change or delete (world
    /// may only read it and its one child, so the child cannot go and the canary is never empty).
    public func prepare(seed: UInt64) async throws {
        try await withClient { client in
            _ = try? await client.create(ZNodePath(FuzzVocabulary.root))
            try await client.create(ZNodePath(Self.canaryPath), data: Self.canaryData(seed: seed))
            try await client.create(ZNodePath(Self.canaryLeaf), data: [1], acl: .readACLUnsafe)
            _ = try await client.setACL(ZNodePath(Self.canaryPath), acl: .readACLUnsafe)
        }
    }

    /// `ruok` answers `imok`, and a fresh session creates, reads and deletes a node. Also reopens the
    /// fuzz subtree (a case may have set an ACL on it that refuses everyone). Nil when all is well.
    public func healthy(label: String) async -> String? {
        let answer = try? sendFourLetterWord("ruok", host: host, port: port, timeout: .seconds(10))
        guard answer == "imok" else { return "ruok answered \(answer.map { "\"\($0)\"" } ?? "nothing") \(label)" }
        do {
            return try await withClient { client in
                let path: ZNodePath = "/fuzz-probe"
                let data = Array("probe \(label)".utf8)
                _ = try? await client.delete(path)  // left by a probe cut short
                try await client.create(path, data: data)
                let read = try await client.getData(path).data
                try await client.delete(path)
                let gone = try await client.exists(path) == nil
                let root = try ZNodePath(FuzzVocabulary.root)
                if try await client.exists(root) == nil { _ = try? await client.create(root) }
                _ = try await client.setACL(root, acl: .openACLUnsafe)
                if read != data { return "a fresh session read back other data than it wrote \(label)" }
                return gone ? nil : "a fresh session's delete left the node \(label)"
            }
        } catch {
            return "a fresh session failed \(label): \(error)"
        }
    }

    /// The canary is intact (data and child). Nil when it is.
    public func canaryIntact(seed: UInt64) async -> String? {
        do {
            return try await withClient { client in
                let data = try await client.getData(ZNodePath(Self.canaryPath)).data
                if data != Self.canaryData(seed: seed) { return "the canary holds other data" }
                return try await client.exists(ZNodePath(Self.canaryLeaf)) == nil ? "the canary's child is gone" : nil
            }
        } catch {
            return "cannot read the canary: \(error)"
        }
    }

    /// `srvr`'s zxid and node count, read in one answer (so they describe the same moment).
    public func treeFigures() throws -> (zxid: Int64, nodes: Int) {
        let text = try sendFourLetterWord("srvr", host: host, port: port, timeout: .seconds(10))
        var zxid: Int64?
        var nodes: Int?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("Zxid: 0x") { zxid = Int64(line.dropFirst(8), radix: 16) }
            if line.hasPrefix("Node count: ") { nodes = Int(line.dropFirst(12)) }
        }
        guard let zxid, let nodes else { throw TestSupportError("srvr without zxid or node count:\n\(text)") }
        return (zxid, nodes)
    }

    /// `mntr`'s value for `key`.
    public func monitor(_ key: String) throws -> Int? {
        let text = try sendFourLetterWord("mntr", host: host, port: port, timeout: .seconds(10))
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "\t")
            if parts.count == 2, parts[0] == key { return Int(parts[1]) }
        }
        return nil
    }
}
