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
        var throughput = ThroughputMode.Options(connect: connect)
        throughput.operations = [.create, .get, .set]
        throughput.outstanding = parameters.outstanding
        throughput.budget = .timed(warmup: parameters.warmup, seconds: parameters.seconds)
        throughput.size = parameters.size
        measured.throughput = try await ThroughputMode(options: throughput).run()
        return measured
    }

    /// Pipelined reads, sets and creates per outstanding level (higher is better).
    static func throughputRows(_ ours: [ThroughputMode.LevelResult], _ theirs: [ThroughputMode.LevelResult], outstanding: [Int]) -> [RatioRow] {
        var rows: [RatioRow] = []
        for (index, depth) in outstanding.enumerated() {
            for operation in [ThroughputMode.Operation.get, .set, .create] {
                let label = operation == .get ? "reads" : operation == .set ? "writes (set)" : "writes (create)"
                rows.append(RatioRow(metric: "\(label) ops/s, \(depth) outstanding",
                                     shepherd: ours[safe: index]?.phase(operation)?.opsPerSecond,
                                     reference: theirs[safe: index]?.phase(operation)?.opsPerSecond,
                                     lowerIsBetter: false, decimals: 0))
            }
        }
        return rows
    }

    /// Sequential get/set/create p50 and p99 (lower is better).
    static func latencyRows(_ ours: LatencyMode.Result?, _ theirs: LatencyMode.Result?) -> [RatioRow] {
        var rows: [RatioRow] = []
        for operation in ["get", "set", "create"] {
            for (name, value) in [("p50", \Summary.p50Micros), ("p99", \Summary.p99Micros)] {
                rows.append(RatioRow(metric: "\(operation) \(name) µs (sequential)",
                                     shepherd: ours?.summaries[operation]?[keyPath: value],
                                     reference: theirs?.summaries[operation]?[keyPath: value], lowerIsBetter: true))
            }
        }
        return rows
    }
}
