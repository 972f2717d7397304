import Foundation
import ToolSupport
import ZooKeeperServer
import ZooKeeperTestSupport

// zk-bench: latency, throughput, a side-by-side comparison with Apache ZooKeeper's Java client, our
// server against Apache ZooKeeper's server, and our lock recipes against Curator's.

// Ctrl-C / SIGTERM: the benchmark task is cancelled (it cleans up its znodes and reports
// "interrupted") and a running Java harness stopped; a second signal, or no exit within 15 s, exits at
// once (status 130).
if !Interrupts.install(
    threadName: "zk-bench-signals", grace: 15, warn: Output.warn,
    againMessage: "interrupted again: exiting without cleanup", graceMessage: "cleanup took too long: exiting",
    onInterrupt: { signal in Output.warn("interrupted (signal \(signal)): stopping and cleaning up…") }
) {
    Output.warn("cannot create the signal pipe: Ctrl-C will exit without cleanup")
}

/// Parses the command line, runs one mode, prints its result; returns the exit status.
func runCommand(_ argv: [String]) async -> Int32 {
    do {
        var arguments = try Arguments(argv)
        guard let mode = arguments.mode, !arguments.flag("help") else {
            if argv.isEmpty {
                Output.warn("no mode given")
                FileHandle.standardError.write(Data((Usage.text + "\n").utf8))
                return 2
            }
            Output.line(Usage.text)
            return 0
        }
        let json = arguments.flag("json")
        let startApache = arguments.flag("start-apache")
        let embedded = arguments.flag("embedded")
        if startApache && embedded { throw UsageError("--start-apache and --embedded are exclusive") }
        if (mode == "servers" || mode == "ensembles") && (startApache || embedded) { throw UsageError("\(mode) mode starts both sides itself") }
        if mode == "fuzz" && (startApache || embedded) { throw UsageError("fuzz starts its own zk-server (it kills and restarts it)") }
        let reference: ReferenceServer? =
            startApache ? try await ReferenceServer.startApache() : embedded ? try await ReferenceServer.startEmbedded() : nil
        if let reference { arguments.provide("connect", reference.connectString) }
        do {
            try await runMode(mode, arguments: &arguments, json: json, embedded: reference?.embeddedServer)
        } catch {
            await reference?.stop()
            throw error
        }
        await reference?.stop()
        return 0
    } catch let error as UsageError {
        Output.warn(error.description)
        Output.warn("run `zk-bench --help` for usage")
        return 2
    } catch is CancellationError {
        Output.warn("interrupted")
        return Interrupts.interruptedStatus
    } catch {
        if Task.isCancelled {
            Output.warn("interrupted (\(error))")
            return Interrupts.interruptedStatus
        }
        Output.warn("failed: \(error)")
        return 1
    }
}

/// Runs one mode with its options and prints its result. `embedded`: our server, when this process runs it.
func runMode(_ mode: String, arguments: inout Arguments, json: Bool, embedded: EmbeddedServer?) async throws {
    // A fuzz soak runs for hours; every other mode is done in minutes.
    let limit = try arguments.seconds("time-limit", default: mode == "fuzz" ? 86_400 : 900, range: 1...86_400)
    Interrupts.startDeadline(seconds: limit, message: "time limit of \(Int(limit)) s reached: aborting", status: 1)
    switch mode {
    case "latency":
        let options = try LatencyMode.Options(&arguments)
        try arguments.finish()
        let result = try await LatencyMode(options: options).run()
        if json { try Output.json(["mode": "latency", "results": result.json]) } else { LatencyMode.print(result) }
    case "throughput":
        let options = try ThroughputMode.Options(&arguments)
        try arguments.finish()
        let levels = try await ThroughputMode(options: options).run()
        if json { try Output.json(["mode": "throughput", "results": levels.map(\.json)]) } else { ThroughputMode.print(levels) }
    case "compare":
        let options = try CompareMode.Options(&arguments)
        try arguments.finish()
        let report = try await CompareMode(options: options).run()
        if json { try Output.json(report.json) } else { report.print() }
    case "ensembles":
        let options = try EnsemblesMode.Options(&arguments)
        try arguments.finish()
        let report = try await EnsemblesMode(options: options).run()
        if json { try Output.json(report.json) } else { report.print() }
    case "servers":
        let options = try ServersMode.Options(&arguments)
        try arguments.finish()
        let report = try await ServersMode(options: options).run()
        if json { try Output.json(report.json) } else { report.print() }
    case "mutex":
        let options = try MutexMode.Options(&arguments)
        try arguments.finish()
        let report = try await MutexMode(options: options, embedded: embedded).run()
        try finishLockReport(report, json: json, violationPaths: MutexMode.violationPaths)
    case "rwlock":
        let options = try ReadWriteLockMode.Options(&arguments)
        try arguments.finish()
        let report = try await ReadWriteLockMode(options: options).run()
        try finishLockReport(report, json: json, violationPaths: ReadWriteLockMode.violationPaths)
    case "fuzz":
        if arguments.string("connect") != nil { throw UsageError("fuzz starts its own zk-server (it kills and restarts it): no --connect") }
        let options = try FuzzMode.Options(&arguments)
        try arguments.finish()
        let report = try await FuzzMode(options: options).run(json: json)
        if json { try Output.json(FuzzMode.json(report)) } else { FuzzMode.print(report) }
        if !report.passed { throw BenchError("fuzz: the server failed (seed \(report.seed))") }
    default:
        throw UsageError("unknown mode \"\(mode)\"")
    }
}

/// Prints a lock mode's report; fails the run (exit 1) if our lock let two holders overlap.
func finishLockReport(_ report: LockReport, json: Bool, violationPaths: [[String]]) throws {
    if json { try Output.json(report.json) } else { report.print() }
    let violations = report.ourViolations(violationPaths)
    if violations != 0 { throw BenchError("\(report.mode): \(violations) violation(s) of mutual exclusion in Shepherd's lock") }
}

let argv = Array(CommandLine.arguments.dropFirst())
let main = Task { await runCommand(argv) }
Interrupts.cancelOnInterrupt(main)
exit(await main.value)
