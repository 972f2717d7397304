import Foundation
import ZooKeeperClient

/// `zk-bench servers`: our server (the `zk-server` executable) against Apache ZooKeeper 3.8
/// standalone, both started by this run (fsync on, same snapCount), the same load from our client,
/// every figure as a ratio Shepherd ÷ Apache. The servers never run at the same time.
///
/// For each server, two instances with fresh data directories:
/// 1. performance: start-up on an empty directory, sequential latency (``LatencyMode``), pipelined
///    throughput at each outstanding level (``ThroughputMode``);
/// 2. data: `--znodes` creates (``BulkLoad``), resident memory after a settle, the data directory's
///    size; then SIGTERM and a timed restart on the same directory until a new session reads the
///    last node — replay of the whole log, as `snapCount` is set above `--znodes` so no snapshot is
///    taken while loading (Apache writes none at shutdown either; it writes one after every start-up's
///    load, which its recovery time includes).
struct ServersMode {
    struct Options {
        var znodes = 1_000_000
        var nodeSize = 50
        var loadDepth = 256
        var load = StandardLoad.Parameters(latencyOps: 2000, warmupOps: 200, size: 100, outstanding: [16, 256], seconds: 3, warmup: 1)
        var settle = 2.0
        var apacheHeap = "2g"
        var quick = false

        init(_ arguments: inout Arguments) throws(UsageError) {
            quick = arguments.flag("quick")
            if quick {
                znodes = 100_000
                load.latencyOps = 500
                load.warmupOps = 100
                load.seconds = 1
                load.warmup = 0.5
                settle = 1
            }
            znodes = try arguments.integer("znodes", default: znodes, range: 1...50_000_000)
            nodeSize = try arguments.integer("node-size", default: nodeSize, range: 0...1_000_000)
            loadDepth = try arguments.integer("load-outstanding", default: loadDepth, range: 1...10_000)
            load = try StandardLoad.Parameters(&arguments, defaults: load)
            settle = try arguments.seconds("settle", default: settle, range: 0...600)
            apacheHeap = arguments.string("apache-heap", default: apacheHeap)
            guard apacheHeap.range(of: #"^[0-9]+[kmgKMG]?$"#, options: .regularExpression) != nil else {
                throw UsageError("--apache-heap takes a JVM size such as 2g or 1536m, got \"\(apacheHeap)\"")
            }
            guard arguments.string("connect") == nil else { throw UsageError("servers mode starts its own servers: no --connect") }
        }

        /// No snapshot while loading: every creation stays in the log to be replayed.
        var snapCount: Int { max(10_000_000, 2 * znodes + 100_000) }

        var json: [String: Any] {
            load.json.merging(["znodes": znodes, "node_size": nodeSize, "load_outstanding": loadDepth, "settle": settle,
                               "apache_heap": apacheHeap, "snap_count": snapCount, "quick": quick, "fsync": true]) { first, _ in first }
        }
    }

    /// Everything measured on one server.
    struct ServerResult {
        var emptyStart: StartupProbe.Timing?
        var latency: LatencyMode.Result?
        var throughput: [ThroughputMode.LevelResult] = []
        var load: ThroughputPhase.Result?
        var loaded: ProcessStats.Memory?
        var disk: ProcessStats.DiskUsage?
        var stopSeconds: Double?
        var filesAtRestart: [String] = []
        var recovery: StartupProbe.Timing?
        var recovered: ProcessStats.Memory?
        var filesAfterRestart: [String] = []

        var json: [String: Any] {
            var object: [String: Any] = [:]
            object["start_empty"] = emptyStart?.json
            object["latency"] = latency?.json
            object["throughput"] = throughput.map(\.json)
            object["load"] = load?.json
            object["rss_loaded_kb"] = loaded?.residentKB
            object["peak_rss_loaded_kb"] = loaded?.peakResidentKB
            object["data_dir_bytes"] = disk?.apparentBytes
            object["data_dir_allocated_bytes"] = disk?.allocatedBytes
            object["data_files"] = disk?.files
            object["stop_ms"] = stopSeconds.map { Summary.round($0 * 1000) }
            object["files_at_restart"] = filesAtRestart
            object["recovery"] = recovery?.json
            object["rss_recovered_kb"] = recovered?.residentKB
            object["peak_rss_recovered_kb"] = recovered?.peakResidentKB
            object["files_after_restart"] = filesAfterRestart
            return object
        }
    }

    struct Report {
        var rows: [RatioRow]
        var shepherd: ServerResult
        var apache: ServerResult
        var options: Options
        var seconds: Double

        var json: [String: Any] {
            ["mode": "servers", "params": options.json, "rows": rows.map { $0.json(referenceKey: "apache") },
             "shepherd": shepherd.json, "apache": apache.json, "run_seconds": Summary.round(seconds)]
        }

        func print() {
            Output.line(RatioTable.render(rows, shepherdTitle: "Shepherd server", referenceTitle: "Apache 3.8", goalColumn: true))
            Output.line("""
                ratio = Shepherd ÷ Apache; goal: ≥ 1 on throughput, ≤ 1 on latency, memory and times. Both fsync on, \
                our client, servers run one at a time.
                Log files at the restart — Shepherd: \(shepherd.filesAtRestart.joined(separator: " ")); \
                Apache: \(apache.filesAtRestart.joined(separator: " "))
                After the restart — Shepherd: \(shepherd.filesAfterRestart.joined(separator: " ")); \
                Apache: \(apache.filesAfterRestart.joined(separator: " ")) (Apache snapshots after each start-up load)
                Allocated: our log preallocates its 64 MiB chunks with fallocate; Apache's padding is sparse.
                \(options.znodes) znodes of \(options.nodeSize) bytes; run took \(Int(seconds.rounded())) s.
                """)
        }
    }

    let options: Options

    func run() async throws -> Report {
        let started = Clock.nanos()
        let settings = ServerUnderTest.Settings(snapCount: options.snapCount, apacheHeap: options.apacheHeap)
        var results: [ServerUnderTest.Kind: ServerResult] = [.shepherd: ServerResult(), .apache: ServerResult()]
        for kind in [ServerUnderTest.Kind.shepherd, .apache] {
            results[kind] = try await performance(ServerUnderTest(kind, settings: settings), into: results[kind]!)
        }
        for kind in [ServerUnderTest.Kind.shepherd, .apache] {
            results[kind] = try await data(ServerUnderTest(kind, settings: settings), into: results[kind]!)
        }
        let ours = results[.shepherd]!, theirs = results[.apache]!
        return Report(rows: rows(ours, theirs), shepherd: ours, apache: theirs, options: options,
                      seconds: Double(Clock.nanos() - started) / 1e9)
    }

    /// Runs `body` with the server, then stops it and removes its files, also on errors and Ctrl-C.
    private func using(_ server: ServerUnderTest, _ body: (ServerUnderTest) async throws -> ServerResult) async throws -> ServerResult {
        do {
            let result = try await body(server)
            server.cleanup()
            return result
        } catch {
            if !(error is CancellationError) && !Task.isCancelled {
                Output.warn("\(server.kind.title) run failed; its log:\n\(server.logTail)")
            }
            server.cleanup()
            throw error
        }
    }

    private func performance(_ server: ServerUnderTest, into previous: ServerResult) async throws -> ServerResult {
        try await using(server) { server in
            var result = previous
            Output.progress("\(server.kind.title): starting (empty data directory)")
            result.emptyStart = try await StartupProbe.start(server)
            Output.progress("\(server.kind.title) at \(server.connectString), pid \(server.pid.map(String.init) ?? "?")")
            let parameters = options.load
            let measured = try await StandardLoad.run(parameters, connect: server.connectString, title: server.kind.title)
            result.latency = measured.latency
            result.throughput = measured.throughput
            try await server.stop()
            return result
        }
    }

    private func data(_ server: ServerUnderTest, into previous: ServerResult) async throws -> ServerResult {
        try await using(server) { server in
            var result = previous
            Output.progress("\(server.kind.title): starting a fresh instance for \(options.znodes) znodes")
            _ = try await StartupProbe.start(server)
            let load = BulkLoad(connect: server.connectString, count: options.znodes, size: options.nodeSize, depth: options.loadDepth)
            Output.progress("\(server.kind.title): creating \(options.znodes) znodes (\(options.loadDepth) outstanding)")
            result.load = try await load.run()
            Output.progress("\(server.kind.title): loaded at \(Int(result.load!.opsPerSecond)) creates/s; settling \(options.settle) s")
            try await Task.sleep(for: .seconds(options.settle))
            result.loaded = try memory(server)
            result.disk = ProcessStats.diskUsage(server.dataDirectory)

            let stopStart = Clock.nanos()
            try await server.stop()
            result.stopSeconds = Double(Clock.nanos() - stopStart) / 1e9
            result.filesAtRestart = Self.files(server.dataDirectory)
            Output.progress("\(server.kind.title): restarting on \(result.filesAtRestart.joined(separator: ", "))")
            result.recovery = try await StartupProbe.start(server, reading: try load.lastNode, expecting: load.data)
            Output.progress("\(server.kind.title): serving after \(Output.number(result.recovery!.servingSeconds, decimals: 2)) s, "
                            + "first read after \(Output.number(result.recovery!.firstReadSeconds ?? 0, decimals: 2)) s")
            try await Task.sleep(for: .seconds(options.settle))
            result.recovered = try memory(server)
            result.filesAfterRestart = Self.files(server.dataDirectory)
            try await server.stop()
            return result
        }
    }

    private func memory(_ server: ServerUnderTest) throws -> ProcessStats.Memory {
        guard let pid = server.pid, let memory = ProcessStats.memory(pid: pid) else {
            throw BenchError("cannot read /proc/<pid>/status of \(server.kind.title) (pid \(server.pid.map(String.init) ?? "none"))")
        }
        return memory
    }

    /// The log and snapshot files (`version-2/…`) with sizes, in name order.
    private static func files(_ dataDirectory: String) -> [String] {
        ProcessStats.diskUsage(dataDirectory).files
            .filter { $0.key.contains("log.") || $0.key.contains("snapshot.") }
            .sorted { $0.key < $1.key }
            .map { "\(($0.key as NSString).lastPathComponent) (\(mebibytes($0.value)) MiB)" }
    }

    private static func mebibytes(_ bytes: Int64) -> String { Output.number(Double(bytes) / 1_048_576, decimals: 1) }

    private func rows(_ ours: ServerResult, _ theirs: ServerResult) -> [RatioRow] {
        var rows = StandardLoad.throughputRows(ours.throughput, theirs.throughput, outstanding: options.load.outstanding)
        rows.append(RatioRow(metric: "bulk create ops/s, \(options.loadDepth) outstanding", shepherd: ours.load?.opsPerSecond,
                             reference: theirs.load?.opsPerSecond, lowerIsBetter: false, decimals: 0))
        rows += StandardLoad.latencyRows(ours.latency, theirs.latency)
        func mib(_ kb: Int?) -> Double? { kb.map { Double($0) / 1024 } }
        func mib(_ bytes: Int64?) -> Double? { bytes.map { Double($0) / 1_048_576 } }
        let n = options.znodes
        rows.append(RatioRow(metric: "resident MiB, \(n) znodes", shepherd: mib(ours.loaded?.residentKB),
                             reference: mib(theirs.loaded?.residentKB), lowerIsBetter: true))
        rows.append(RatioRow(metric: "peak resident MiB, loading", shepherd: mib(ours.loaded?.peakResidentKB),
                             reference: mib(theirs.loaded?.peakResidentKB), lowerIsBetter: true))
        rows.append(RatioRow(metric: "resident MiB, after recovery", shepherd: mib(ours.recovered?.residentKB),
                             reference: mib(theirs.recovered?.residentKB), lowerIsBetter: true))
        rows.append(RatioRow(metric: "peak resident MiB, recovery", shepherd: mib(ours.recovered?.peakResidentKB),
                             reference: mib(theirs.recovered?.peakResidentKB), lowerIsBetter: true))
        rows.append(RatioRow(metric: "data dir MiB (file sizes)", shepherd: mib(ours.disk?.apparentBytes),
                             reference: mib(theirs.disk?.apparentBytes), lowerIsBetter: true))
        rows.append(RatioRow(metric: "data dir MiB (allocated, du)", shepherd: mib(ours.disk?.allocatedBytes),
                             reference: mib(theirs.disk?.allocatedBytes), lowerIsBetter: true))
        func ms(_ seconds: Double?) -> Double? { seconds.map { $0 * 1000 } }
        rows.append(RatioRow(metric: "start-up ms, empty data dir", shepherd: ms(ours.emptyStart?.servingSeconds),
                             reference: ms(theirs.emptyStart?.servingSeconds), lowerIsBetter: true, decimals: 0))
        rows.append(RatioRow(metric: "recovery ms, \(n)-txn log: serving", shepherd: ms(ours.recovery?.servingSeconds),
                             reference: ms(theirs.recovery?.servingSeconds), lowerIsBetter: true, decimals: 0))
        rows.append(RatioRow(metric: "recovery ms, \(n)-txn log: first read", shepherd: ms(ours.recovery?.firstReadSeconds),
                             reference: ms(theirs.recovery?.firstReadSeconds), lowerIsBetter: true, decimals: 0))
        rows.append(RatioRow(metric: "clean stop ms (SIGTERM), \(n) znodes", shepherd: ms(ours.stopSeconds),
                             reference: ms(theirs.stopSeconds), lowerIsBetter: true, decimals: 0))
        return rows
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
