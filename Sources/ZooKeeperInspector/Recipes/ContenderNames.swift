import Foundation

/// The node-name markers of the lock-like recipes, and Curator's ordering by the text after them.
enum ContenderNames {
    /// Curator's and our mutex (`_c_<uuid>-lock-<seq>`); also LeaderSelector's and a semaphore's `locks/`.
    static let lock = "lock-"
    /// kazoo's `Lock` / `WriteLock` (`<32 hex>__lock__<seq>`).
    static let kazooLock = "__lock__"
    /// kazoo's `ReadLock`.
    static let kazooReadLock = "__rlock__"
    /// Curator's and our read/write lock halves.
    static let read = "__READ__"
    static let write = "__WRIT__"
    /// Curator's and our leader latch.
    static let latch = "latch-"
    /// Curator's and our semaphore leases (`leases/_c_<uuid>-lease-<seq>`).
    static let lease = "lease-"

    /// The text after the last occurrence of `marker` (Curator's `fixForSorting`), or nil when absent.
    static func sortKey(_ name: String, marker: String) -> Substring? {
        guard let range = name.range(of: marker, options: .backwards) else { return nil }
        return name[range.upperBound...]
    }

    /// Whether `name` is a contender of `marker`'s kind: the marker followed by exactly a sequence number
    /// (`…lock-0000000007`), so that a node merely *named* like one (`/lock-demo-1`) is not taken for one.
    static func isContender(_ name: String, _ marker: String) -> Bool {
        guard let key = sortKey(name, marker: marker), key.count == 10 else { return false }
        return Int(key) != nil
    }

    /// The sequence number ending a name: its last 10 characters, when they are digits (or `-` and digits).
    static func sequence(_ name: String) -> Int? {
        guard name.count >= 10 else { return nil }
        return Int(name.suffix(10))
    }

    /// The first of `markers` that `name` contains; kazoo's `__rlock__` is checked before `lock-`-like ones.
    static func marker(of name: String, among markers: [String]) -> String? {
        markers.first { name.contains($0) }
    }

    /// `names` in lock order: by the text after each one's marker, compared as Java compares strings
    /// (UTF-16 code units); names without a marker last, by name.
    static func ordered(_ names: [String], markers: [String]) -> [String] {
        func key(_ name: String) -> [UInt16] {
            for marker in markers { if let key = sortKey(name, marker: marker) { return Array(key.utf16) } }
            return [UInt16.max] + Array(name.utf16)
        }
        return names.map { ($0, key($0)) }.sorted { lhs, rhs in
            lhs.1.lexicographicallyPrecedes(rhs.1) || (lhs.1 == rhs.1 && lhs.0 < rhs.0)
        }.map(\.0)
    }
}
