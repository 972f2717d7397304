import Synchronization

/// The in-process witness of mutual exclusion, as the Java harness's `Guard`: a writer does a
/// non-atomic read / yield / write of a shared counter, so two holders overlapping show up either as
/// an overlap seen on entry or as a lost update; a reader checks that no writer is inside.
///
/// Every lock holder in a run shares one guard (all sessions live in this process).
final class LockGuard: Sendable {
    private let readers = Atomic<Int>(0)
    private let writers = Atomic<Int>(0)
    private let counter = Atomic<Int>(0)
    private let entries = Atomic<Int>(0)
    private let overlaps = Atomic<Int>(0)

    /// The exclusive section: increments the counter non-atomically (load, yield, store).
    func write() async {
        if writers.add(1, ordering: .sequentiallyConsistent).newValue != 1
            || readers.load(ordering: .sequentiallyConsistent) != 0 {
            overlaps.add(1, ordering: .relaxed)
        }
        let value = counter.load(ordering: .sequentiallyConsistent)
        await Task.yield()
        counter.store(value + 1, ordering: .sequentiallyConsistent)
        entries.add(1, ordering: .sequentiallyConsistent)
        writers.subtract(1, ordering: .sequentiallyConsistent)
    }

    /// The shared section: no writer may be inside.
    func read() async {
        readers.add(1, ordering: .sequentiallyConsistent)
        if writers.load(ordering: .sequentiallyConsistent) != 0 { overlaps.add(1, ordering: .relaxed) }
        await Task.yield()
        readers.subtract(1, ordering: .sequentiallyConsistent)
    }

    /// Overlaps seen plus updates lost (`entries − counter`); must be 0. Read after the workers ended.
    var violations: Int {
        overlaps.load(ordering: .sequentiallyConsistent)
            + entries.load(ordering: .sequentiallyConsistent) - counter.load(ordering: .sequentiallyConsistent)
    }
}
