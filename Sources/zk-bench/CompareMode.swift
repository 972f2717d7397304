import Foundation

/// `zk-bench compare`: our latency and throughput next to Apache ZooKeeper's Java client, measured
/// with the same parameters against the same server in the same run (alternating: ours, then Java's,
/// per measurement), printed as metric | Shepherd | Java client | ratio.
struct CompareMode {
    struct Options {
        var latency: LatencyMode.Options
        var throughput: ThroughputMode.Options

        init(_ arguments: inout Arguments) throws(UsageError) {
            latency = try LatencyMode.Options(&arguments)
            // --ops is the latency part's count; throughput is always timed (--seconds) here.
            throughput = try ThroughputMode.Options(&arguments, countedBudget: false)
            guard arguments.string("op") == nil else { throw UsageError("compare always measures get, set and create") }
            throughput.operations = [.create, .get, .set]  // create first: get/set then run over its nodes, as in Java
            throughput.size = latency.size
        }
    }

    typealias Row = RatioRow

    struct Report {
        var rows: [Row]
        var shepherd: [String: Any]
        var java: [String: Any]
        var parameters: [String: Any]

        var json: [String: Any] {
            ["mode": "compare", "params": parameters, "rows": rows.map { $0.json(referenceKey: "java") }, "shepherd": shepherd, "java": java]
        }

        func print() {
            Output.line(RatioTable.render(rows, referenceTitle: "Java client"))
            Output.line("ratio = Shepherd ÷ Java client; latency (µs): lower is better, so ratio < 1 favours Shepherd;")
            Output.line("ops/s: higher is better, so ratio > 1 favours Shepherd. Parameters: \(parameterLine)")
        }

        private var parameterLine: String {
            parameters.keys.sorted().map { "\($0)=\(parameters[$0]!)" }.joined(separator: " ")
        }
    }

    let options: Options

    func run() async throws -> Report {
        let java = try await JavaHarness.prepare(instead: "`zk-bench latency` and `throughput` measure Shepherd alone")
        let latency = options.latency
        let throughput = options.throughput
        guard case let .timed(warmup, seconds) = throughput.budget else { preconditionFailure("compare reads no counted budget") }
        let common = ["--connect", latency.connect, "--size", String(latency.size)]

        Output.progress("latency: Shepherd (\(latency.ops) ops per operation)")
        let ours = try await LatencyMode(options: latency).run()
        Output.progress("latency: Java client")
        let theirs = try await java.run(
            ["latency"] + common + ["--ops", String(latency.ops), "--warmup-ops", String(latency.warmupOps)],
            timeout: 120 + Double(latency.ops + latency.warmupOps) * 5 * 0.02)

        var rows: [Row] = []
        for operation in LatencyMode.operations {
            let label = LatencyMode.labels[operation] ?? operation
            let summary = ours.summaries[operation]
            for (name, key, value) in [("p50", "p50_us", summary?.p50Micros), ("p99", "p99_us", summary?.p99Micros),
                                       ("mean", "mean_us", summary?.meanMicros)] {
                rows.append(Row(metric: "\(label) \(name) µs", shepherd: value,
                                reference: JavaHarness.number(theirs, operation, key), lowerIsBetter: true))
            }
        }

        var ourLevels: [ThroughputMode.LevelResult] = []
        var javaLevels: [[String: Any]] = []
        let mode = ThroughputMode(options: throughput)
        for depth in throughput.outstanding {
            ourLevels.append(try await mode.runLevel(depth: depth))
            Output.progress("throughput: Java client, \(depth) outstanding × \(throughput.connections) connection(s)")
            let phases = Double(throughput.operations.count)
            javaLevels.append(try await java.run(
                ["throughput"] + common + [
                    "--clients", String(throughput.connections), "--outstanding", String(depth),
                    "--ops", throughput.operations.map(\.rawValue).joined(separator: ","),
                    "--seconds", String(seconds), "--warmup", String(warmup),
                ],
                timeout: 120 + phases * (seconds + warmup) * 2))
        }
        for (index, depth) in throughput.outstanding.enumerated() {
            for operation in [ThroughputMode.Operation.get, .set, .create] {
                let label = "\(operation.rawValue) ops/s, \(depth) outstanding × \(throughput.connections)"
                rows.append(Row(metric: label, shepherd: ourLevels[index].phase(operation)?.opsPerSecond,
                                reference: JavaHarness.number(javaLevels[index], operation.rawValue, "ops_per_s"),
                                lowerIsBetter: false))
            }
        }
        for (index, depth) in throughput.outstanding.enumerated() {
            for operation in [ThroughputMode.Operation.get, .set, .create] {
                let label = "\(operation.rawValue) p50 µs under load, \(depth) outstanding × \(throughput.connections)"
                rows.append(Row(metric: label, shepherd: ourLevels[index].phase(operation)?.latency.p50Micros,
                                reference: JavaHarness.number(javaLevels[index], operation.rawValue, "latency", "p50_us"),
                                lowerIsBetter: true))
            }
        }

        let parameters: [String: Any] = [
            "connect": latency.connect, "latency_ops": latency.ops, "warmup_ops": latency.warmupOps, "size": latency.size,
            "outstanding": throughput.outstanding, "connections": throughput.connections,
            "seconds": seconds, "warmup": warmup,
        ]
        return Report(rows: rows,
                      shepherd: ["latency": ours.json, "throughput": ourLevels.map(\.json)],
                      java: ["latency": theirs, "throughput": javaLevels],
                      parameters: parameters)
    }
}
