import ZooKeeperClient

/// Fills a server with `count` znodes `/m/n0` … `/m/n<count-1>` holding the same `size` bytes,
/// pipelined (one session, `depth` requests in flight), and leaves them there: what `servers` mode
/// measures memory and start-up recovery with.
struct BulkLoad {
    static let directory = "/m"

    let connect: String
    let count: Int
    let size: Int
    let depth: Int

    /// The payload of every node (printable, so a dump is readable).
    var data: [UInt8] { (0..<size).map { UInt8(ascii: "a") + UInt8($0 % 26) } }

    /// The last node created: read back after a restart.
    var lastNode: ZNodePath { get throws { try ZNodePath("\(Self.directory)/n\(count - 1)") } }

    /// Creates the nodes; returns the phase result (rate over the whole load).
    func run() async throws -> ThroughputPhase.Result {
        var configuration = try ZooKeeperConfiguration(connectionString: connect)
        configuration.sessionTimeout = .seconds(30)
        configuration.initialConnectionTimeout = .seconds(10)
        let zk = try await ZooKeeperClient.connect(configuration)
        do {
            try await zk.create(try ZNodePath(Self.directory))
            let load = LoadConnection(zk: zk, dir: Self.directory)
            let phase = ThroughputPhase(operation: .create, loads: [load], depth: depth, budget: .counted(count), data: data)
            let result = try await phase.run()
            await zk.close()
            guard result.errors == 0 else {
                throw BenchError("loading \(count) znodes: \(result.errors) creates failed")
            }
            return result
        } catch {
            await zk.close()
            throw error
        }
    }
}
