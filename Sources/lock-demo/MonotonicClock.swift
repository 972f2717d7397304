#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `CLOCK_MONOTONIC` nanoseconds. One clock for the whole machine, so enter/exit times taken in
/// different worker processes can be compared by the parent (the mutual-exclusion check).
enum MonotonicClock {
    static func nanos() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
