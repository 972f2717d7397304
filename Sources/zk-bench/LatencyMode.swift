import ZooKeeperClient

/// `zk-bench latency`: one client, one request in flight. As the Java harness's `latency` mode, each
/// operation runs N times in turn over N znodes: create, exists on a missing node (a pure round trip,
/// no disk), getData, setData, delete; first an unmeasured warm-up cycle.
struct LatencyMode {
    static let operations = ["create", "exists_miss", "get", "set", "delete"]
    static let labels = ["create": "create", "exists_miss": "exists (missing)", "get": "get", "set": "set", "delete": "delete"]

    struct Options {
        var connect: String
        var ops = 2000
        var warmupOps = 200
        var size = 100

        init(_ arguments: inout Arguments) throws(UsageError) {
            connect = try arguments.required("connect")
            ops = try arguments.integer("ops", default: ops, range: 1...1_000_000)
            warmupOps = try arguments.integer("warmup-ops", default: warmupOps, range: 0...1_000_000)
            size = try arguments.integer("size", default: size, range: 0...1_000_000)
        }

        init(connect: String) { self.connect = connect }
    }

    struct Result: Sendable {
        var summaries: [String: Summary]

        var json: [String: Any] { summaries.mapValues { $0.json } }
    }

    let options: Options

    func run() async throws -> Result {
        let (root, admin) = try await BenchRoot.create(mode: "latency", connect: options.connect)
        do {
            let result = try await measure(root)
            await root.remove(using: admin)
            return result
        } catch {
            await root.remove(using: admin)
            throw error
        }
    }

    private func measure(_ root: BenchRoot) async throws -> Result {
        let zk = try await root.client()
        do {
            let data = [UInt8](repeating: 0, count: options.size)
            _ = try await cycle(zk, prefix: root.path.string + "/w", count: options.warmupOps, data: data)
            let summaries = try await cycle(zk, prefix: root.path.string + "/n", count: options.ops, data: data)
            await zk.close()
            return Result(summaries: summaries)
        } catch {
            await zk.close()
            throw error
        }
    }

    private func cycle(_ zk: ZooKeeperClient, prefix: String, count: Int, data: [UInt8]) async throws -> [String: Summary] {
        let paths = try (0..<count).map { try ZNodePath(prefix + String($0)) }
        let missing = try ZNodePath(prefix + "-missing")
        var result: [String: Summary] = [:]
        for operation in Self.operations {
            var samples = Samples(reservingCapacity: count)
            for path in paths {
                try Task.checkCancellation()
                let start = Clock.nanos()
                switch operation {
                case "create": try await zk.create(path, data: data)
                case "exists_miss": _ = try await zk.exists(missing)
                case "get": _ = try await zk.getData(path)
                case "set": try await zk.setData(path, data: data)
                default: try await zk.delete(path)
                }
                samples.add(Clock.nanos() - start)
            }
            result[operation] = samples.summary()
        }
        return result
    }

    static func print(_ result: Result) {
        let rows = operations.compactMap { operation -> [String]? in
            guard let summary = result.summaries[operation] else { return nil }
            return [labels[operation] ?? operation, String(summary.count), Output.number(summary.p50Micros),
                    Output.number(summary.p99Micros), Output.number(summary.meanMicros)]
        }
        Output.line(Output.table(header: ["op (sequential)", "n", "p50 µs", "p99 µs", "mean µs"], rows: rows))
    }
}
