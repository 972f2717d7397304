import Foundation

/// The result of a lock mode: our recipe and Curator's, each as the Java harness's JSON shape
/// (`{"uncontended": {...}, "contended": {...}}` for mutex, one object for rwlock), and the ratio
/// rows built from the same keys on both sides. Without the Java side, our numbers alone.
struct LockReport {
    /// One row: a label and where the number is in each side's JSON.
    struct Metric {
        var label: String
        var path: [String]
        var lowerIsBetter: Bool
        var decimals = 1
    }

    var mode: String
    var metrics: [Metric]
    var shepherd: [String: Any]
    var curator: [String: Any]?
    var parameters: [String: Any]

    /// The metrics either side measured (e.g. round trips only with `--embedded`).
    var rows: [RatioRow] {
        metrics.compactMap { metric in
            let row = RatioRow(metric: metric.label, shepherd: Self.number(shepherd, metric.path),
                               reference: curator.flatMap { Self.number($0, metric.path) },
                               lowerIsBetter: metric.lowerIsBetter, decimals: metric.decimals)
            return row.shepherd == nil && row.reference == nil ? nil : row
        }
    }

    var json: [String: Any] {
        ["mode": mode, "params": parameters, "rows": rows.map { $0.json(referenceKey: "curator") },
         "shepherd": shepherd, "curator": curator ?? NSNull()]
    }

    func print() {
        if curator != nil {
            Output.line(RatioTable.render(rows, referenceTitle: "Curator"))
            Output.line("ratio = Shepherd ÷ Curator, same server, same run. Rates (/s), counts and fairness (min ÷ max):")
            Output.line("higher is better, so ratio > 1 favours Shepherd; latency (µs), requests, violations and")
            Output.line("errors: lower is better, so ratio < 1 favours Shepherd. Parameters: \(parameterLine)")
        } else {
            let cells = rows.map { row in [row.metric, row.shepherd.map { Output.number($0, decimals: row.decimals) } ?? "-"] }
            Output.line(Output.table(header: ["metric", "Shepherd"], rows: cells))
            Output.line("(no Curator reference: --no-java) Parameters: \(parameterLine)")
        }
    }

    private var parameterLine: String {
        parameters.keys.sorted().map { "\($0)=\(parameters[$0]!)" }.joined(separator: " ")
    }

    /// The number at `path` in `object`, if present.
    static func number(_ object: [String: Any], _ path: [String]) -> Double? {
        var current: Any? = object
        for key in path { current = (current as? [String: Any])?[key] }
        return (current as? NSNumber)?.doubleValue
    }

    /// `per_client_min ÷ per_client_max` of a result object (1 = perfectly even), added under `fairness`.
    static func withFairness(_ object: [String: Any]) -> [String: Any] {
        guard let low = number(object, ["per_client_min"]), let high = number(object, ["per_client_max"]), high > 0
        else { return object }
        var copy = object
        copy["fairness"] = (low / high * 1000).rounded() / 1000
        return copy
    }

    /// The violation count of our side (overlaps + lost updates), to fail the run when not 0.
    func ourViolations(_ paths: [[String]]) -> Int {
        paths.reduce(0) { $0 + Int(Self.number(shepherd, $1) ?? 0) }
    }
}
