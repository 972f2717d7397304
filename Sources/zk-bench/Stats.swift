#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic nanoseconds (`CLOCK_MONOTONIC`), cheap enough to read around every request.
enum Clock {
    static func nanos() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}

/// Latency samples in nanoseconds. A value type: each worker keeps its own and they are merged after.
struct Samples: Sendable {
    private(set) var values: [Int64] = []

    init(reservingCapacity capacity: Int = 0) { values.reserveCapacity(capacity) }

    var count: Int { values.count }

    mutating func add(_ nanos: Int64) { values.append(nanos) }
    mutating func add(contentsOf other: Samples) { values.append(contentsOf: other.values) }

    /// n, mean, min, p50, p90, p99, max in microseconds (the Java harness's rounding and percentile rule).
    func summary() -> Summary {
        guard !values.isEmpty else { return Summary(count: 0, meanMicros: 0, minMicros: 0, p50Micros: 0, p90Micros: 0, p99Micros: 0, maxMicros: 0) }
        let sorted = values.sorted()
        let total = sorted.reduce(0.0) { $0 + Double($1) }
        func micros(_ nanos: Double) -> Double { Summary.round(nanos / 1_000) }
        return Summary(
            count: sorted.count,
            meanMicros: micros(total / Double(sorted.count)),
            minMicros: micros(Double(sorted[0])),
            p50Micros: micros(Double(Self.percentile(sorted, 0.50))),
            p90Micros: micros(Double(Self.percentile(sorted, 0.90))),
            p99Micros: micros(Double(Self.percentile(sorted, 0.99))),
            maxMicros: micros(Double(sorted[sorted.count - 1]))
        )
    }

    /// Nearest-rank percentile: the smallest sample with at least `q` of the samples at or below it.
    static func percentile(_ sorted: [Int64], _ q: Double) -> Int64 {
        let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
        return sorted[max(0, min(sorted.count - 1, rank))]
    }
}

/// A latency distribution in microseconds, rounded to 0.1 µs.
struct Summary: Sendable {
    var count: Int
    var meanMicros: Double
    var minMicros: Double
    var p50Micros: Double
    var p90Micros: Double
    var p99Micros: Double
    var maxMicros: Double

    static func round(_ value: Double) -> Double { (value * 10).rounded() / 10 }

    /// The same keys as the Java harness (`n`, `mean_us`, `p50_us`, …).
    var json: [String: Any] {
        ["n": count, "mean_us": meanMicros, "min_us": minMicros, "p50_us": p50Micros,
         "p90_us": p90Micros, "p99_us": p99Micros, "max_us": maxMicros]
    }
}
