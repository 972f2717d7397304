/// One `Summary` of Apache's `ServerMetrics`: `AvgMinMaxCounter`, or with `percentiles`
/// `AvgMinMaxPercentileCounter` (its detail level ADVANCED). `mntr` prints it as `avg_`, `min_`, `max_`,
/// `cnt_`, `sum_` (and `p50_`, `p95_`, `p99_`, `p999_`) keys.
struct MetricSummary: Sendable {
    /// Apache's `ResettableUniformReservoir.DEFAULT_SIZE`.
    static let reservoirSize = 4096

    let name: String
    /// `mntr` prints the percentiles (Apache's ADVANCED summaries); the reservoir is kept either way, for
    /// the quantiles of `/metrics`.
    let percentiles: Bool
    private(set) var count: Int64 = 0
    private(set) var sum: Int64 = 0
    private var smallest = Int64.max
    private var largest = Int64.min
    /// A uniform sample of the values (Algorithm R, as Apache's reservoir): where percentiles come from.
    private var reservoir: [Int64] = []
    /// The reservoir's slot picks: a SplitMix64 state. Uniformity is all they need; the system generator
    /// would cost a `getrandom` call per value on the request path once the reservoir is full.
    private var pick: UInt64 = 0x9E37_79B9_7F4A_7C15

    init(_ name: String, percentiles: Bool = false) {
        self.name = name
        self.percentiles = percentiles
    }

    mutating func add(_ value: Int64) {
        count += 1
        sum &+= value
        smallest = Swift.min(smallest, value)
        largest = Swift.max(largest, value)
        if reservoir.count < Self.reservoirSize {
            reservoir.append(value)
        } else {
            let slot = nextPick() % UInt64(count)
            if slot < UInt64(Self.reservoirSize) { reservoir[Int(slot)] = value }
        }
    }

    private mutating func nextPick() -> UInt64 {
        pick &+= 0x9E37_79B9_7F4A_7C15
        var z = pick
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Another recorder's values (its samples join the reservoir as if added here, in order).
    mutating func add(contentsOf values: [Int64]) {
        for value in values { add(value) }
    }

    var min: Int64 { count == 0 ? 0 : smallest }
    var max: Int64 { count == 0 ? 0 : largest }

    /// `AvgMinMaxCounter.getAvg`: the mean rounded half-up to 4 decimals, 0 before the first value.
    var average: Double {
        count == 0 ? 0 : (Double(sum) / Double(count) * 10_000).rounded(.toNearestOrAwayFromZero) / 10_000
    }

    /// Dropwizard's `UniformSnapshot.getValue` over the reservoir, rounded as `Math.round`.
    func percentile(_ quantile: Double) -> Int64 {
        quantileValue(quantile).map { Int64(($0 + 0.5).rounded(.down)) } ?? 0
    }

    /// The interpolated quantile of the reservoir, nil when it is empty.
    func quantileValue(_ quantile: Double) -> Double? {
        let sorted = reservoir.sorted()
        guard !sorted.isEmpty else { return nil }
        let position = quantile * Double(sorted.count + 1)
        let index = Int(position)
        let value: Double
        if index < 1 {
            value = Double(sorted[0])
        } else if index >= sorted.count {
            value = Double(sorted[sorted.count - 1])
        } else {
            let lower = Double(sorted[index - 1])
            let upper = Double(sorted[index])
            value = lower + (position - position.rounded(.down)) * (upper - lower)
        }
        return value
    }

    /// The keys `mntr` prints, in Apache's order (without `zk_`).
    var monitorValues: [(key: String, value: MonitorValue)] {
        var values: [(key: String, value: MonitorValue)] = [
            ("avg_" + name, .double(average)),
            ("min_" + name, .int(min)),
            ("max_" + name, .int(max)),
            ("cnt_" + name, .int(count)),
            ("sum_" + name, .int(sum)),
        ]
        guard percentiles else { return values }
        values += [
            ("p50_" + name, .int(percentile(0.5))),
            ("p95_" + name, .int(percentile(0.95))),
            ("p99_" + name, .int(percentile(0.99))),
            ("p999_" + name, .int(percentile(0.999))),
        ]
        return values
    }
}
