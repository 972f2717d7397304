import Foundation
import ZooKeeperClient

/// Runs every suite × fault against one target, each scenario bounded by `scenarioTimeout`.
struct Matrix {
    var targets: [String]
    var suites: [Suite]
    var faults: [Fault]
    var ensembleScript: String
    var externalServers = ProcessInfo.processInfo.environment["SHEPHERD_TEST_SERVERS"] ?? ""
    var scenarioTimeout: Duration = .seconds(60)
    var sessionTimeout: Duration = .seconds(4)

    /// results[target][suite][fault]
    typealias Results = [String: [Suite: [Fault: Outcome]]]

    func makeTarget(_ name: String) async throws -> any MatrixTarget {
        switch name {
        case "embedded": return try await EmbeddedTarget()
        case "apache": return try await ApacheStandaloneTarget()
        case "ensemble": return try await EnsembleTarget(name: name, script: ensembleScript)
        case "shepherd-ensemble": return try await EnsembleTarget(name: name, script: ensembleScript, shepherdNodes: [1, 2, 3])
        case "mixed-ensemble": return try await EnsembleTarget(name: name, script: ensembleScript, shepherdNodes: [1])
        case "external": return try ExternalTarget(connectString: externalServers)
        default: throw MatrixError("unknown target \(name) (embedded, apache, ensemble, shepherd-ensemble, mixed-ensemble, external)")
        }
    }

    func run() async -> (Results, [String]) {
        var results: Results = [:]
        var details: [String] = []
        for name in targets {
            log("target \(name): starting")
            let target: any MatrixTarget
            do {
                target = try await makeTarget(name)
            } catch {
                details.append("\(name): could not start: \(error)")
                for suite in suites { for fault in faults { results[name, default: [:]][suite, default: [:]][fault] = .fail(.zero, "no target") } }
                continue
            }
            log("target \(name): \(target.connectString)")
            for suite in suites {
                for fault in faults {
                    guard target.supports(fault) else {
                        results[name, default: [:]][suite, default: [:]][fault] = .notApplicable
                        continue
                    }
                    let (outcome, notes) = await runScenario(suite, fault, on: target)
                    results[name, default: [:]][suite, default: [:]][fault] = outcome
                    let label = "\(name) \(suite.rawValue) × \(fault.rawValue)"
                    log("\(label): \(outcome.cell)\(notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))")")
                    if case .fail(_, let why) = outcome { details.append("\(label): \(why)") }
                    do { try await target.heal() } catch { details.append("\(name): heal failed: \(error)") }
                }
            }
            await target.shutdown()
        }
        return (results, details)
    }

    func runScenario(_ suite: Suite, _ fault: Fault, on target: any MatrixTarget) async -> (Outcome, [String]) {
        let start = ContinuousClock.now
        let context: ScenarioContext
        do {
            context = try ScenarioContext(target: target, fault: fault, suite: suite, sessionTimeout: sessionTimeout)
        } catch {
            return (.fail(.zero, "\(error)"), [])
        }
        let timeout = scenarioTimeout
        let result: Result<Void, any Error> = await withTaskGroup(of: Result<Void, any Error>?.self) { group in
            group.addTask {
                do {
                    switch suite {
                    case .locks: try await LockSuite().run(context)
                    case .latch: try await LatchSuite().run(context)
                    case .selector: try await SelectorSuite().run(context)
                    case .queue: try await QueueSuite().run(context)
                    }
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : .failure(MatrixError("scenario exceeded \(timeout)"))
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(MatrixError("no result"))
        }
        await context.finish()
        let elapsed = ContinuousClock.now - start
        switch result {
        case .success: return (.pass(elapsed), context.notes)
        case .failure(let error): return (.fail(elapsed, "\(error)"), context.notes)
        }
    }
}

func log(_ message: String) {
    FileHandle.standardError.write(Data("zk-matrix: \(message)\n".utf8))
}

/// The table: rows suite × fault, columns target.
func renderTable(_ results: Matrix.Results, targets: [String], suites: [Suite], faults: [Fault]) -> String {
    var rows: [[String]] = [["suite", "fault"] + targets]
    for suite in suites {
        for fault in faults {
            rows.append([suite.rawValue, fault.rawValue] + targets.map { results[$0]?[suite]?[fault]?.cell ?? "-" })
        }
    }
    let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
    func line(_ row: [String]) -> String {
        "| " + zip(row, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: " | ") + " |"
    }
    var out = [line(rows[0]), "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|"]
    out += rows.dropFirst().map(line)
    return out.joined(separator: "\n")
}
