import ZooKeeperProtocol

/// A connection's authenticated ids as Apache keeps them: `ServerCnxn.authInfo` is a *set*
/// (`ConcurrentHashMap.newKeySet`), so adding an id twice keeps one, and `getAuthInfo()` lists them
/// in the map's iteration order (bucket of the jute `Id.hashCode`, then insertion order), which is
/// the order `auth:` ACL expansion and `whoAmI` answer in.
///
/// Notable behaviours: the order is exact up to 11 ids (a 16-bucket table); past that
/// ConcurrentHashMap resizes and may reorder within buckets, which this does not model.
package enum AuthIdSet {
    /// `ids` with `id` added (if new), in Apache's listing order.
    package static func inserting(_ id: Id, into ids: [Id]) -> [Id] {
        guard !ids.contains(id) else { return ids }
        let all = ids + [id]
        var capacity = 16
        while all.count >= capacity - capacity / 4 { capacity *= 2 }
        // Stable sort by bucket keeps insertion order within a bucket.
        return all.enumerated()
            .sorted { lhs, rhs in
                let (l, r) = (bucket(lhs.element, capacity), bucket(rhs.element, capacity))
                return l != r ? l < r : lhs.offset < rhs.offset
            }
            .map(\.element)
    }

    /// `ConcurrentHashMap.spread(hashCode) & (capacity - 1)`.
    static func bucket(_ id: Id, _ capacity: Int) -> Int {
        let h = UInt32(bitPattern: hashCode(id))
        let spread = (h ^ (h >> 16)) & 0x7FFF_FFFF
        return Int(spread) & (capacity - 1)
    }

    /// The jute-generated `Id.hashCode()`: `37 * (37 * 17 + scheme.hashCode()) + id.hashCode()`.
    static func hashCode(_ id: Id) -> Int32 {
        var result: Int32 = 17
        result = 37 &* result &+ JavaHashSetOrder.javaHashCode(id.scheme)
        result = 37 &* result &+ JavaHashSetOrder.javaHashCode(id.id)
        return result
    }
}
