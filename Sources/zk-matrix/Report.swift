import Foundation

/// The matrix's results as tables (one per target: rows suites, columns faults), Markdown and JSON.
struct MatrixReport {
    let targets: [String]
    let suites: [Suite]
    let faults: [Fault]
    let results: Matrix.Results
    let details: [String]
    let total: Duration
    let sessionTimeout: Duration
    let parallel: Int

    var failedCells: Int {
        results.values.flatMap { $0.values.flatMap(\.values) }.filter(\.outcome.failed).count
    }

    func cell(_ target: String, _ suite: Suite, _ fault: Fault) -> Cell? { results[target]?[suite]?[fault] }

    /// One table per target: rows suites, columns faults; cells `pass`/`FAIL`/`n/a` and the time.
    func table(for target: String) -> String {
        var rows: [[String]] = [["suite"] + faults.map(\.rawValue)]
        for suite in suites {
            rows.append([suite.rawValue] + faults.map { cell(target, suite, $0)?.outcome.cell ?? "-" })
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        func line(_ row: [String]) -> String {
            "| " + zip(row, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: " | ") + " |"
        }
        var out = [line(rows[0]), "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|"]
        out += rows.dropFirst().map(line)
        return out.joined(separator: "\n")
    }

    var summary: String {
        "\(failedCells == 0 && details.isEmpty ? "PASS" : "FAIL"): \(failedCells) failed cell(s), total \(Outcome.seconds(total))"
    }

    /// What the console shows at the end.
    var console: String {
        var out: [String] = []
        for target in targets { out += ["", "target \(target):", table(for: target)] }
        out += [""] + details.map { "- \($0)" }
        out.append(summary)
        return out.joined(separator: "\n")
    }

    var markdown: String {
        var out = ["# zk-matrix report", ""]
        out.append("\(summary). Session timeout \(Outcome.seconds(sessionTimeout)); up to \(parallel) client-side scenarios at a time.")
        out += ["", """
            How to read it: one table per target; rows are recipe suites, columns are faults. A cell is `pass` or \
            `FAIL` with the scenario's wall time, or `n/a` when the target cannot inject that fault (process faults \
            on a standalone or external server, peer partitions on an ensemble of more than three). A `FAIL` means the suite's invariant (listed below) was violated \
            or the scenario did not finish within its timeout; the reason is under Failures. Notes record what \
            the scenario observed (documented weaker guarantees that applied, e.g. retried puts, fenced overlaps).
            """]
        for target in targets { out += ["", "## \(target)", "", table(for: target)] }
        out += ["", "## Failures", ""]
        out += details.isEmpty ? ["None."] : details.map { "- \($0)" }
        out += ["", "## Notes", ""]
        for target in targets {
            for suite in suites {
                for fault in faults {
                    guard let notes = cell(target, suite, fault)?.notes, !notes.isEmpty else { continue }
                    out.append("- \(target) \(suite.rawValue) × \(fault.rawValue): \(notes.joined(separator: "; "))")
                }
            }
        }
        out += ["", "## Invariants", ""]
        out += suites.map { "- **\($0.rawValue)**: \($0.invariant)" }
        return out.joined(separator: "\n") + "\n"
    }

    struct JSONCell: Codable {
        var target: String
        var suite: String
        var fault: String
        var outcome: String
        var seconds: Double?
        var reason: String?
        var notes: [String]
    }

    struct JSONReport: Codable {
        var passed: Bool
        var failedCells: Int
        var totalSeconds: Double
        var sessionTimeoutSeconds: Double
        var targets: [String]
        var faults: [String]
        var invariants: [String: String]
        var cells: [JSONCell]
        var failures: [String]
    }

    func json() throws -> Data {
        var cells: [JSONCell] = []
        for target in targets {
            for suite in suites {
                for fault in faults {
                    var entry = JSONCell(target: target, suite: suite.rawValue, fault: fault.rawValue, outcome: "missing", notes: [])
                    if let cell = cell(target, suite, fault) {
                        entry.notes = cell.notes
                        switch cell.outcome {
                        case .pass(let time): (entry.outcome, entry.seconds) = ("pass", Self.seconds(time))
                        case .fail(let time, let why): (entry.outcome, entry.seconds, entry.reason) = ("fail", Self.seconds(time), why)
                        case .notApplicable: entry.outcome = "n/a"
                        }
                    }
                    cells.append(entry)
                }
            }
        }
        let report = JSONReport(
            passed: failedCells == 0 && details.isEmpty, failedCells: failedCells, totalSeconds: Self.seconds(total),
            sessionTimeoutSeconds: Self.seconds(sessionTimeout), targets: targets, faults: faults.map(\.rawValue),
            invariants: Dictionary(uniqueKeysWithValues: suites.map { ($0.rawValue, $0.invariant) }), cells: cells,
            failures: details)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(report)
    }

    /// Writes `<base>.md` and `<base>.json`; returns their paths.
    func write(to base: String) throws -> [String] {
        let paths = [base + ".md", base + ".json"]
        try Data(markdown.utf8).write(to: URL(fileURLWithPath: paths[0]))
        try json().write(to: URL(fileURLWithPath: paths[1]))
        return paths
    }

    static func seconds(_ duration: Duration) -> Double {
        ((Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18) * 10).rounded() / 10
    }
}
