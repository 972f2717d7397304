/// The order in which Apache lists a session's ephemeral paths: `DataTree.getEphemerals` clones the
/// session's `HashSet<String>`, and both `getEphemerals` and the `closeSession` txn (hence the order
/// in which a closing session's ephemerals are deleted and their watches fire) iterate that clone.
///
/// A `java.util.HashMap` iterates by bucket (`(h ^ (h >>> 16)) & (capacity - 1)`, `h` =
/// `String.hashCode()`), and within a bucket in insertion order. The clone is sized for its count
/// (`tableSizeFor(count / 0.75 + 1)`) and filled in the source set's order; the source set has grown
/// from 16 buckets as entries were added.
///
/// Notable behaviours: insertion order is taken as creation order (`czxid`, then path); the source
/// set's size is taken from its current count (Apache's never shrinks after deletions). Both are
/// exact for the common case of a few ephemerals per session.
package enum JavaHashSetOrder {
    /// `paths` in Apache's iteration order; `created` gives each path's insertion rank (its czxid).
    package static func ordered(_ paths: some Collection<String>, created: (String) -> Int64) -> [String] {
        let count = paths.count
        guard count > 1 else { return Array(paths) }
        let cloneCapacity = tableSizeFor(Int(Float(count) / 0.75 + 1))
        var sourceCapacity = 16
        while count > sourceCapacity * 3 / 4 { sourceCapacity *= 2 }
        return paths
            .map { (path: $0, hash: spread(javaHashCode($0)), created: created($0)) }
            .sorted { a, b in
                let (ca, cb) = (a.hash & (cloneCapacity - 1), b.hash & (cloneCapacity - 1))
                if ca != cb { return ca < cb }
                let (sa, sb) = (a.hash & (sourceCapacity - 1), b.hash & (sourceCapacity - 1))
                if sa != sb { return sa < sb }
                return a.created != b.created ? a.created < b.created : a.path < b.path
            }
            .map(\.path)
    }

    /// `HashMap.hash`: the hash code with its high half folded into the low half.
    static func spread(_ hash: Int32) -> Int {
        let h = UInt32(bitPattern: hash)
        return Int(h ^ (h >> 16))
    }

    /// `HashMap.tableSizeFor`: the next power of two ≥ `capacity` (at least 1).
    static func tableSizeFor(_ capacity: Int) -> Int {
        var size = 1
        while size < capacity { size *= 2 }
        return size
    }

    /// Java's `String.hashCode()` over UTF-16 code units.
    static func javaHashCode(_ text: String) -> Int32 {
        text.utf16.reduce(Int32(0)) { 31 &* $0 &+ Int32($1) }
    }
}
