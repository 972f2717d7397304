/// The Prometheus text exposition format (0.0.4) as Apache's provider writes it through simpleclient 0.9:
/// `# HELP name name`, `# TYPE name gauge`, then `name value` with Java's double spelling (`5.0`).
enum PrometheusText {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func render(_ gauges: [(name: String, value: Double)]) -> String {
        gauges.map { (gauge: (name: String, value: Double)) -> String in
            "# HELP \(gauge.name) \(gauge.name)\n# TYPE \(gauge.name) gauge\n\(gauge.name) \(number(gauge.value))\n"
        }.joined()
    }

    /// Apache's `PrometheusCounter` (a simpleclient 0.9 Counter: no `_total` suffix yet).
    static func renderCounter(name: String, value: Int64) -> String {
        "# HELP \(name) \(name)\n# TYPE \(name) counter\n\(name) \(number(Double(value)))\n"
    }

    /// Apache's `PrometheusSummary`: quantile 0.5 (BASIC) or 0.5, 0.9, 0.99 (ADVANCED), `_count`, `_sum`;
    /// simpleclient 0.9 writes labels with a trailing comma and an empty quantile as NaN. Apache's quantiles
    /// cover a sliding 10-minute window; ours come from the summary's uniform reservoir of every value.
    static func renderSummary(_ summary: MetricSummary) -> String {
        let name = summary.name
        var text = "# HELP \(name) \(name)\n# TYPE \(name) summary\n"
        let quantiles: [Double] = summary.percentiles ? [0.5, 0.9, 0.99] : [0.5]
        for quantile in quantiles {
            text += "\(name){quantile=\"\(quantile)\",} \(number(summary.quantileValue(quantile) ?? .nan))\n"
        }
        text += "\(name)_count \(number(Double(summary.count)))\n\(name)_sum \(number(Double(summary.sum)))\n"
        return text
    }

    /// simpleclient's `doubleToGoString`: `+Inf`, `-Inf`, `NaN`, integral values with `.0` (`5.0`); Java
    /// would switch to `1.2E7` from 10⁷ on, which Prometheus reads the same as our `12000000.0`.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) + ".0" }
        return "\(value)"
    }
}
