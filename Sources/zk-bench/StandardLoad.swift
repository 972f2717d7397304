import Foundation

/// The load `servers` and `ensembles` put on each side — sequential latency, then pipelined get/set/create
/// at each outstanding level — and the ratio rows both print from it.
enum StandardLoad {
    struct Parameters {
        var latencyOps: Int
        var warmupOps: Int
        var size: Int
        var outstanding: [Int]
        var seconds: Double
        var warmup: Double

        /// The options `--ops --warmup-ops --size --outstanding --seconds --warmup`, over `defaults`.
        init(_ arguments: inout Arguments, defaults: Parameters) throws(UsageError) {
            latencyOps = try arguments.integer("ops", default: defaults.latencyOps, range: 1...1_000_000)
            warmupOps = try arguments.integer("warmup-ops", default: defaults.warmupOps, range: 0...1_000_000)
            size = try arguments.integer("size", default: defaults.size, range: 0...1_000_000)
            outstanding = try arguments.integerList("outstanding", default: defaults.outstanding, range: 1...10_000)
            seconds = try arguments.seconds("seconds", default: defaults.seconds, range: 0.1...600)
            warmup = try arguments.seconds("warmup", default: defaults.warmup, range: 0...600)
        }

        init(latencyOps: Int, warmupOps: Int, size: Int, outstanding: [Int], seconds: Double, warmup: Double) {
            (self.latencyOps, self.warmupOps, self.size, self.outstanding, self.seconds, self.warmup) =
                (latencyOps, warmupOps, size, outstanding, seconds, warmup)
        }

        var json: [String: Any] {
            ["latency_ops": latencyOps, "warmup_ops": warmupOps, "size": size, "outstanding": outstanding,
             "seconds": seconds, "warmup": warmup]
        }
    }

    struct Measured {
        var latency: LatencyMode.Result?
        var throughput: [ThroughputMode.LevelResult] = []
    }

    static func run(_ parameters: Parameters, connect: String, title: String) async throws -> Measured {
        var latency = LatencyMode.Options(connect: connect)
        latency.ops = parameters.latencyOps
        latency.warmupOps = parameters.warmupOps
        latency.size = parameters.size
        Output.progress("\(title): sequential latency (\(parameters.latencyOps) ops per operation)")
        var measured = Measured()
        measured.latency = try await LatencyMode(options: latency).run()
        measured.throughput = try await throughput(parameters, connect: connect, operations: [.create, .get, .set])
        return measured
    }

    /// Pipelined throughput only, of `operations`, at each outstanding level.
    static func throughput(_ parameters: Parameters, connect: String, operations: [ThroughputMode.Operation]) async throws -> [ThroughputMode.LevelResult] {
        var throughput = ThroughputMode.Options(connect: connect)
        throughput.operations = operations
        throughput.outstanding = parameters.outstanding
        throughput.budget = .timed(warmup: parameters.warmup, seconds: parameters.seconds)
        throughput.size = parameters.size
        return try await ThroughputMode(options: throughput).run()
    }

    /// Pipelined reads, sets and creates per outstanding level (higher is better).
    /// `suffix` qualifies the metric (e.g. where the client is); `operations` limits the rows.
    static func throughputRows(_ ours: [ThroughputMode.LevelResult], _ theirs: [ThroughputMode.LevelResult], outstanding: [Int],
                               operations: [ThroughputMode.Operation] = [.get, .set, .create], suffix: String = "",
                               goal: (ThroughputMode.Operation) -> Double = { _ in 1 }) -> [RatioRow] {
        var rows: [RatioRow] = []
        for (index, depth) in outstanding.enumerated() {
            for operation in operations {
                let label = operation == .get ? "reads" : operation == .set ? "writes (set)" : "writes (create)"
                rows.append(RatioRow(metric: "\(label) ops/s, \(depth) outstanding\(suffix)",
                                     shepherd: ours[safe: index]?.phase(operation)?.opsPerSecond,
                                     reference: theirs[safe: index]?.phase(operation)?.opsPerSecond,
                                     lowerIsBetter: false, decimals: 0, goal: goal(operation)))
            }
        }
        return rows
    }

    /// Sequential get/set/create p50 and p99 (lower is better).
    /// `goal(operation, percentile)`: a target ratio other than "at least as good as the reference".
    static func latencyRows(_ ours: LatencyMode.Result?, _ theirs: LatencyMode.Result?,
                            goal: (_ operation: String, _ percentile: String) -> Double = { _, _ in 1 }) -> [RatioRow] {
        var rows: [RatioRow] = []
        for operation in ["get", "set", "create"] {
            for (name, value) in [("p50", \Summary.p50Micros), ("p99", \Summary.p99Micros)] {
                rows.append(RatioRow(metric: "\(operation) \(name) µs (sequential)",
                                     shepherd: ours?.summaries[operation]?[keyPath: value],
                                     reference: theirs?.summaries[operation]?[keyPath: value], lowerIsBetter: true,
                                     goal: goal(operation, name)))
            }
        }
        return rows
    }
}
