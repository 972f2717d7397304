import Foundation

/// One metric measured for Shepherd and a reference in the same run, printed as
/// metric | Shepherd | reference | ratio (Shepherd ÷ reference).
struct RatioRow {
    var metric: String
    var shepherd: Double?
    var reference: Double?
    var lowerIsBetter: Bool
    /// Decimals when printed (throughput in whole ops/s, memory in MiB with one).
    var decimals = 1
    /// The ratio to reach: at least this when higher is better, at most this when lower is (1: as good as
    /// the reference; an issue's target where it sets one, e.g. 2× Apache's write throughput).
    var goal = 1.0

    var ratio: Double? {
        guard let shepherd, let reference, reference > 0 else { return nil }
        return shepherd / reference
    }

    /// Whether the ratio reaches ``goal``: ≥ it when higher is better, ≤ it when lower is.
    var meetsGoal: Bool? { ratio.map { lowerIsBetter ? $0 <= goal : $0 >= goal } }

    /// The goal as printed, e.g. "≥ 2" or "≤ 0.5".
    var goalText: String { (lowerIsBetter ? "≤ " : "≥ ") + Output.number(goal, decimals: goal == goal.rounded() ? 0 : 1) }

    /// JSON with the reference under `referenceKey` ("java", "apache").
    func json(referenceKey: String) -> [String: Any] {
        ["metric": metric, "shepherd": shepherd ?? NSNull(), referenceKey: reference ?? NSNull(),
         "ratio": ratio.map { (($0 * 1000).rounded()) / 1000 } ?? NSNull(),
         "better": lowerIsBetter ? "lower" : "higher", "goal": goal, "meets_goal": meetsGoal ?? NSNull()]
    }
}

enum RatioTable {
    /// The table; with `goalColumn`, a last column with each row's goal and whether Shepherd reaches it.
    static func render(_ rows: [RatioRow], shepherdTitle: String = "Shepherd", referenceTitle: String,
                       goalColumn: Bool = false) -> String {
        let cells = rows.map { row -> [String] in
            var line = [row.metric,
                        row.shepherd.map { Output.number($0, decimals: row.decimals) } ?? "-",
                        row.reference.map { Output.number($0, decimals: row.decimals) } ?? "-",
                        row.ratio.map { Output.number($0, decimals: 2) } ?? "-"]
            if goalColumn { line.append(row.goalText + ": " + (row.meetsGoal.map { $0 ? "ok" : "MISS" } ?? "-")) }
            return line
        }
        var header = ["metric", shepherdTitle, referenceTitle, "ratio"]
        if goalColumn { header.append("goal") }
        return Output.table(header: header, rows: cells)
    }
}
