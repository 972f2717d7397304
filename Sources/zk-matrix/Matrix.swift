import Foundation
import ZooKeeperClient

/// Runs every suite × fault against one target, each scenario bounded by `scenarioTimeout`.
///
/// Scenarios whose fault touches only their own clients (none, session-expired, partition) run up to
/// `parallel` at a time: each has its own namespace, clients and proxies, and most of their time is spent
/// waiting out session timeouts. Scenarios that kill or restart a server run alone, each followed by a heal.
struct Matrix {
    var targets: [String]
    var suites: [Suite]
    var faults: [Fault]
    var ensembleScript: String
    /// Members of the script's ensembles (`--ensemble-nodes`, the script's `ZK_NODES`).
    var ensembleNodes = 3
    var externalServers = ProcessInfo.processInfo.environment["SHEPHERD_TEST_SERVERS"] ?? ""
    var scenarioTimeout: Duration = .seconds(60)
    var sessionTimeout: Duration = .seconds(4)
    var parallel = 4

    /// results[target][suite][fault]
    typealias Results = [String: [Suite: [Fault: Cell]]]

    func makeTarget(_ name: String) async throws -> any MatrixTarget {
        switch name {
        case "embedded": return try await EmbeddedTarget()
        case "apache": return try await ApacheStandaloneTarget()
        // Members reach each other through fault proxies only when a peer partition is to run.
        case "ensemble": return try await EnsembleTarget(name: name, script: ensembleScript, nodes: ensembleNodes, peerLinks: peerLinks)
        case "shepherd-ensemble":
            return try await EnsembleTarget(name: name, script: ensembleScript, nodes: ensembleNodes,
                                            shepherdNodes: Array(1...ensembleNodes), peerLinks: peerLinks)
        case "mixed-ensemble":
            return try await EnsembleTarget(name: name, script: ensembleScript, nodes: ensembleNodes, shepherdNodes: [1], peerLinks: peerLinks)
        case "mixed-ensemble-2":
            return try await EnsembleTarget(name: name, script: ensembleScript, nodes: ensembleNodes, shepherdNodes: [1, 2], peerLinks: peerLinks)
        case "external": return try ExternalTarget(connectString: externalServers)
        default: throw MatrixError("unknown target \(name) (embedded, apache, ensemble, shepherd-ensemble, mixed-ensemble, mixed-ensemble-2, external)")
        }
    }

    /// The fault proxies between members are laid out for three (``PeerPartitions``): with more, the
    /// peer-partition cells are not applicable.
    private var peerLinks: Bool { faults.contains(.peerPartition) && ensembleNodes == 3 }

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
                for suite in suites { for fault in faults { results[name, default: [:]][suite, default: [:]][fault] = Cell(outcome: .fail(.zero, "no target")) } }
                continue
            }
            log("target \(name): \(target.connectString)")
            var alone: [(Suite, Fault)] = []
            var together: [(Suite, Fault)] = []
            for suite in suites {
                for fault in faults {
                    if !target.supports(fault) {
                        results[name, default: [:]][suite, default: [:]][fault] = Cell(outcome: .notApplicable)
                    } else if fault.touchesServers {
                        alone.append((suite, fault))
                    } else {
                        together.append((suite, fault))
                    }
                }
            }
            func record(_ suite: Suite, _ fault: Fault, _ cell: Cell) {
                results[name, default: [:]][suite, default: [:]][fault] = cell
                if case .fail(_, let why) = cell.outcome { details.append("\(name) \(suite.rawValue) × \(fault.rawValue): \(why)") }
            }
            for (suite, fault, cell) in await runTogether(together, on: target) { record(suite, fault, cell) }
            do { try await target.heal() } catch { details.append("\(name): heal failed: \(error)") }
            for (suite, fault) in alone {
                record(suite, fault, await runScenario(suite, fault, on: target))
                do { try await target.heal() } catch { details.append("\(name): heal failed: \(error)") }
            }
            await target.shutdown()
        }
        return (results, details)
    }

    /// Runs `scenarios` at most `parallel` at a time; returns them as they finish.
    func runTogether(_ scenarios: [(Suite, Fault)], on target: any MatrixTarget) async -> [(Suite, Fault, Cell)] {
        await withTaskGroup(of: (Suite, Fault, Cell).self) { group in
            var pending = scenarios[...]
            func startNext() {
                guard let (suite, fault) = pending.popFirst() else { return }
                group.addTask { (suite, fault, await self.runScenario(suite, fault, on: target)) }
            }
            for _ in 0..<max(1, parallel) { startNext() }
            var finished: [(Suite, Fault, Cell)] = []
            while let result = await group.next() {
                finished.append(result)
                startNext()
            }
            return finished
        }
    }

    func runScenario(_ suite: Suite, _ fault: Fault, on target: any MatrixTarget) async -> Cell {
        let start = ContinuousClock.now
        let context: ScenarioContext
        do {
            context = try ScenarioContext(target: target, fault: fault, suite: suite, sessionTimeout: sessionTimeout)
        } catch {
            return Cell(outcome: .fail(.zero, "\(error)"))
        }
        let timeout = scenarioTimeout
        let result: Result<Void, any Error> = await withTaskGroup(of: Result<Void, any Error>?.self) { group in
            group.addTask {
                do {
                    try await suite.run(context)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                let last = context.progressReport.map { " (last progress: \($0))" } ?? ""
                guard !Task.isCancelled else { return nil }
                let left = await context.diagnosis()
                return .failure(MatrixError("scenario exceeded \(timeout)\(last); left behind: \(left)"))
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(MatrixError("no result"))
        }
        await context.finish()
        let elapsed = ContinuousClock.now - start
        let cell: Cell
        switch result {
        case .success: cell = Cell(outcome: .pass(elapsed), notes: context.notes)
        case .failure(let error): cell = Cell(outcome: .fail(elapsed, "\(error)"), notes: context.notes)
        }
        var notes = cell.notes.isEmpty ? "" : " (\(cell.notes.joined(separator: "; ")))"
        if case .fail(_, let why) = cell.outcome {
            notes += ": \(why)"
            let path = FileManager.default.temporaryDirectory
                .appendingPathComponent("zk-matrix-\(target.name)-\(suite.rawValue)-\(fault.rawValue)-\(getpid()).log").path
            if context.writeClientLog(to: path) { notes += " (client log: \(path))" }
        }
        log("\(target.name) \(suite.rawValue) × \(fault.rawValue): \(cell.outcome.cell)\(notes)")
        return cell
    }
}

let logStart = ContinuousClock.now

/// Progress on stderr, stamped with the time since the run began.
func log(_ message: String) {
    FileHandle.standardError.write(Data("zk-matrix [\(Outcome.seconds(.now - logStart))]: \(message)\n".utf8))
}
