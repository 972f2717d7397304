import Testing
@testable import ZooKeeperServer

/// `mntr`'s summary keys as Apache's AvgMinMaxCounter and AvgMinMaxPercentileCounter print them.
struct MetricSummaryTests {
    @Test func anEmptySummaryPrintsZeros() {
        let summary = MetricSummary("fsynctime")
        let printed = summary.monitorValues.map { "\($0.key)=\($0.value.text)" }
        #expect(printed == ["avg_fsynctime=0.0", "min_fsynctime=0", "max_fsynctime=0", "cnt_fsynctime=0", "sum_fsynctime=0"])
    }

    @Test func averagesRoundHalfUpToFourDigits() {
        var summary = MetricSummary("t")
        for value: Int64 in [0, 1, 1, 4, 0, 2, 2] { summary.add(value) }  // 10 / 7
        #expect(summary.monitorValues.first?.value.text == "1.4286")
        #expect(summary.min == 0 && summary.max == 4 && summary.count == 7 && summary.sum == 10)
    }

    @Test func percentilesInterpolateAsDropwizardsUniformSnapshot() {
        var summary = MetricSummary("quorum_ack_latency", percentiles: true)
        for value: Int64 in [1, 2, 2, 2, 3, 6, 3] { summary.add(value) }  // Apache printed p50 2, p95 6 for these
        #expect(summary.percentile(0.5) == 2)
        #expect(summary.percentile(0.95) == 6)
        #expect(summary.percentile(0.999) == 6)
        var ten = MetricSummary("x", percentiles: true)
        for value in Int64(1)...10 { ten.add(value) }
        #expect(ten.percentile(0.5) == 6, "position 5.5 between 5 and 6, rounded half up")
        #expect(ten.monitorValues.map(\.key).suffix(4) == ["p50_x", "p95_x", "p99_x", "p999_x"])
    }

    @Test func theReservoirStaysBounded() {
        var summary = MetricSummary("x", percentiles: true)
        for value in Int64(0)..<10_000 { summary.add(value) }
        #expect(summary.count == 10_000 && summary.max == 9_999)
        #expect((4_000...6_000).contains(summary.percentile(0.5)))
    }
}
