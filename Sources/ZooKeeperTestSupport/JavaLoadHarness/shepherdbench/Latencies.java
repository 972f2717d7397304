package shepherdbench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Durations in nanoseconds, summarised as zk-bench's Swift side does (nearest-rank percentiles,
 * rounded to 0.1). One writer at a time: each worker keeps its own and they are merged afterwards.
 */
final class Latencies {
    private long[] values = new long[256];
    private int count;

    void add(long nanos) {
        if (count == values.length) values = Arrays.copyOf(values, count * 2);
        values[count++] = nanos;
    }

    int count() { return count; }

    static Latencies merge(Iterable<Latencies> parts) {
        Latencies all = new Latencies();
        for (Latencies part : parts) {
            for (int i = 0; i < part.count; i++) all.add(part.values[i]);
        }
        return all;
    }

    /** n, mean, min, p50, p90, p99, max in microseconds ({@code p50_us}, …). */
    Map<String, Object> micros() { return summary(1e3, "_us"); }

    /** The same in milliseconds, with every sample (for short series such as failover rounds). */
    Map<String, Object> millis() {
        Map<String, Object> summary = summary(1e6, "_ms");
        double[] samples = new double[count];
        for (int i = 0; i < count; i++) samples[i] = round(values[i] / 1e6);
        summary.put("samples_ms", samples);
        return summary;
    }

    private Map<String, Object> summary(double unit, String suffix) {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("n", count);
        if (count == 0) return summary;
        long[] sorted = Arrays.copyOf(values, count);
        Arrays.sort(sorted);
        double total = 0;
        for (long value : sorted) total += value;
        summary.put("mean" + suffix, round(total / count / unit));
        summary.put("min" + suffix, round(sorted[0] / unit));
        summary.put("p50" + suffix, round(rank(sorted, 0.50) / unit));
        summary.put("p90" + suffix, round(rank(sorted, 0.90) / unit));
        summary.put("p99" + suffix, round(rank(sorted, 0.99) / unit));
        summary.put("max" + suffix, round(sorted[count - 1] / unit));
        return summary;
    }

    /** The smallest sample with at least {@code q} of the samples at or below it. */
    private static long rank(long[] sorted, double q) {
        int index = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    static double round(double value) { return Math.round(value * 10) / 10.0; }
}
