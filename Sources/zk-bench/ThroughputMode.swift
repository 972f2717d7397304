import ZooKeeperClient

/// `zk-bench throughput`: pipelined ops/s. For each outstanding level, `connections` sessions each
/// keep `outstanding` requests in flight; the operations run as timed phases in the order given
/// (default create, get, set — the Java harness's order: get and set cycle over the nodes the create
/// phase made). If get or set comes first, each connection first creates a few nodes, untimed.
struct ThroughputMode {
    enum Operation: String, Sendable, CaseIterable {
        case create, get, set, delete
    }

    struct Options {
        var connect: String
        var operations: [Operation] = [.create, .get, .set]
        var outstanding = [1, 16, 256]
        var connections = 1
        var budget = ThroughputPhase.Budget.timed(warmup: 1, seconds: 3)
        var size = 100

        /// `countedBudget: false` leaves `--ops` to another reader (compare's latency part: a count of requests).
        init(_ arguments: inout Arguments, countedBudget: Bool = true) throws(UsageError) {
            connect = try arguments.required("connect")
            operations = try arguments.choiceList(
                "op", default: operations.map(\.rawValue), allowed: Operation.allCases.map(\.rawValue)
            ).compactMap(Operation.init(rawValue:))
            outstanding = try arguments.integerList("outstanding", default: outstanding, range: 1...10_000)
            connections = try arguments.integer("connections", default: connections, range: 1...256)
            size = try arguments.integer("size", default: size, range: 0...1_000_000)
            let seconds = try arguments.seconds("seconds", default: 3, range: 0.1...600)
            let warmup = try arguments.seconds("warmup", default: 1, range: 0...600)
            if countedBudget, let ops = try arguments.optionalInteger("ops", range: 1...100_000_000) {
                guard arguments.string("seconds") == nil else { throw UsageError("give --seconds or --ops, not both") }
                budget = .counted(ops)
            } else {
                budget = .timed(warmup: warmup, seconds: seconds)
            }
        }

        init(connect: String) { self.connect = connect }
    }

    struct LevelResult: Sendable {
        var outstanding: Int
        var connections: Int
        var phases: [ThroughputPhase.Result]

        func phase(_ operation: Operation) -> ThroughputPhase.Result? { phases.first { $0.operation == operation } }

        var json: [String: Any] {
            var object: [String: Any] = ["outstanding": outstanding, "connections": connections,
                                         "outstanding_total": outstanding * connections]
            for phase in phases { object[phase.operation.rawValue] = phase.json }
            return object
        }
    }

    let options: Options

    func run() async throws -> [LevelResult] {
        var levels: [LevelResult] = []
        for depth in options.outstanding {
            levels.append(try await runLevel(depth: depth))
        }
        return levels
    }

    func runLevel(depth: Int) async throws -> LevelResult {
        let (root, admin) = try await BenchRoot.create(mode: "throughput", connect: options.connect)
        var loads: [LoadConnection] = []
        do {
            for index in 0..<options.connections {
                let load = LoadConnection(zk: try await root.client(), dir: root.path.string + "/c\(index)")
                loads.append(load)
                try await load.zk.create(try ZNodePath(load.dir))
            }
            let result = try await measure(loads, depth: depth)
            await tearDown(loads, root: root, admin: admin)
            return result
        } catch {
            await tearDown(loads, root: root, admin: admin)
            throw error
        }
    }

    private func measure(_ loads: [LoadConnection], depth: Int) async throws -> LevelResult {
        let data = [UInt8](repeating: 0, count: options.size)
        var phases: [ThroughputPhase.Result] = []
        for operation in options.operations {
            if operation != .create, loads.contains(where: { $0.liveCount == 0 }) {
                let seed = ThroughputPhase(operation: .create, loads: loads, depth: min(depth, 256),
                                           budget: .counted(max(1000, depth) * loads.count), data: data)
                _ = try await seed.run()
            }
            Output.progress("throughput \(operation.rawValue), \(depth) outstanding × \(loads.count) connection(s)")
            let phase = ThroughputPhase(operation: operation, loads: loads, depth: depth, budget: options.budget, data: data)
            phases.append(try await phase.run())
        }
        return LevelResult(outstanding: depth, connections: loads.count, phases: phases)
    }

    /// Untimed: deletes what the phases left (pipelined, per connection), closes the sessions, removes the root.
    private func tearDown(_ loads: [LoadConnection], root: BenchRoot, admin: ZooKeeperClient) async {
        let data: [UInt8] = []
        await Task.detached {
            let sweep = ThroughputPhase(operation: .delete, loads: loads, depth: 256,
                                        budget: .counted(Int.max / 2), data: data)
            do { _ = try await sweep.run() } catch { Output.warn("deleting the run's nodes failed: \(error)") }
            for load in loads { await load.zk.close() }
        }.value
        await root.remove(using: admin)
    }

    static func print(_ levels: [LevelResult]) {
        var rows: [[String]] = []
        for level in levels {
            for phase in level.phases {
                rows.append([phase.operation.rawValue, "\(level.outstanding) × \(level.connections)",
                             Output.number(phase.opsPerSecond, decimals: 0), String(phase.completed),
                             Output.number(phase.latency.p50Micros), Output.number(phase.latency.p99Micros),
                             String(phase.errors)])
            }
        }
        Output.line(Output.table(header: ["op", "outstanding × conns", "ops/s", "completed", "p50 µs", "p99 µs", "errors"],
                                 rows: rows))
    }
}
