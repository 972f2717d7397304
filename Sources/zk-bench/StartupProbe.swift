import ZooKeeperClient

/// Times a server start: from launching the process until it serves (``ServerUnderTest/start()``)
/// and until a new client session has read a known node (when given) — the point where recovery is
/// really over for a client.
enum StartupProbe {
    struct Timing: Sendable {
        /// Launch → serving (ours: `ruok`; Apache: `ruok` and `srvr` in `Mode: standalone`).
        var servingSeconds: Double
        /// Launch → a new session read the known node (nil when no node was given).
        var firstReadSeconds: Double?

        var json: [String: Any] {
            var object: [String: Any] = ["serving_ms": Summary.round(servingSeconds * 1000)]
            if let firstReadSeconds { object["first_read_ms"] = Summary.round(firstReadSeconds * 1000) }
            return object
        }
    }

    static func start(_ server: ServerUnderTest, reading known: ZNodePath? = nil, expecting data: [UInt8]? = nil) async throws -> Timing {
        let launched = Clock.nanos()
        try await server.start()
        let serving = Clock.nanos()
        guard let known else { return Timing(servingSeconds: seconds(launched, serving), firstReadSeconds: nil) }
        var configuration = try ZooKeeperConfiguration(connectionString: server.connectString)
        configuration.sessionTimeout = .seconds(10)
        configuration.initialConnectionTimeout = .seconds(30)
        let zk = try await ZooKeeperClient.connect(configuration)
        do {
            let (read, _) = try await zk.getData(known)
            let done = Clock.nanos()
            if let data, read != data {
                throw BenchError("\(server.kind.title) recovered \(known) with different data (\(read.count) bytes)")
            }
            await zk.close()
            return Timing(servingSeconds: seconds(launched, serving), firstReadSeconds: seconds(launched, done))
        } catch {
            await zk.close()
            throw error
        }
    }

    private static func seconds(_ from: Int64, _ to: Int64) -> Double { Double(to - from) / 1e9 }
}
