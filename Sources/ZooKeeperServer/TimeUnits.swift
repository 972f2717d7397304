import Foundation

extension Duration {
    /// Whole milliseconds (the unit of ZooKeeper's timeouts, ticks and stats), truncated.
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

/// Wall-clock milliseconds since the Unix epoch: ctime, mtime and txn header times.
func wallClockMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
