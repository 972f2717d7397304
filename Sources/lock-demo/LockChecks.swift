/// The independent checks of what the lock promised, computed from the workers' own reports (not
/// from anything the lock code says about itself).
struct LockChecks {
    /// Order numbers handed out more than once (each extra copy counts).
    var duplicates: [Int64] = []
    /// Numbers in 1...max never reported (the counter skipped or a report was lost).
    var gaps: [Int64] = []
    /// Pairs of critical sections that overlapped in time (monotonic clock, shared by all processes).
    var overlaps: [(Acquisition, Acquisition)] = []
    /// Places where the order number grew but the fencing token did not.
    var fencingRegressions = 0
    /// The counter's final value disagrees with the numbers reported.
    var counterMismatch: String?

    var passed: Bool {
        duplicates.isEmpty && gaps.isEmpty && overlaps.isEmpty && fencingRegressions == 0 && counterMismatch == nil
    }

    /// - Parameters:
    ///   - sections: every critical section: completed ones and killed holders (exit = kill time).
    ///   - finalCounter: the `next-order` node's value after the run, if it could be read.
    init(sections: [Acquisition], finalCounter: Int64?) {
        let numbers = sections.map(\.orderNumber).sorted()
        var seen = Set<Int64>()
        for number in numbers where !seen.insert(number).inserted { duplicates.append(number) }
        if let highest = numbers.last {
            gaps = (Int64(1)...max(highest, 1)).filter { !seen.contains($0) }
            if let finalCounter, finalCounter != highest + 1 {
                counterMismatch = "next-order is \(finalCounter), expected \(highest + 1)"
            }
        }

        // Mutual exclusion: sorted by entry, no section may start before every earlier one has ended.
        let byEntry = sections.sorted { $0.enterNanos < $1.enterNanos }
        var latest: Acquisition?
        for section in byEntry {
            if let previous = latest, section.enterNanos < previous.exitNanos {
                overlaps.append((previous, section))
            }
            if latest == nil || section.exitNanos > latest!.exitNanos { latest = section }
        }

        // Fencing: a later holder (larger order number) must carry a larger token.
        let byNumber = sections.sorted { $0.orderNumber < $1.orderNumber }
        for (earlier, later) in zip(byNumber, byNumber.dropFirst())
        where later.orderNumber > earlier.orderNumber && later.fencingToken <= earlier.fencingToken {
            fencingRegressions += 1
        }
    }
}

/// Nearest-rank percentiles of nanosecond samples.
struct Percentiles {
    let sorted: [Int64]
    init(_ samples: [Int64]) { sorted = samples.sorted() }

    func value(_ q: Double) -> Int64 {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
        return sorted[Swift.max(0, Swift.min(sorted.count - 1, rank))]
    }

    var max: Int64 { sorted.last ?? 0 }
}
