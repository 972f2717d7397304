/// ZooKeeper's sequence suffixes at the end of their range.
///
/// A sequential node's suffix is `%010d` of its parent's child-version counter, a signed 32-bit
/// number. Apache 3.8 never stores a wrapped counter (`DataTree.createNode` keeps the larger cversion),
/// so after 2,147,483,647 child creations every further sequential child is suffixed `2147483647`
/// again — and `-2147483648` when creates on that parent are in flight together (the pending change
/// record has wrapped). From then on suffixes no longer order creations: as text `-2147483648` sorts
/// first, and equal suffixes tie. Recipes that order by sequence refuse such a node loudly rather
/// than guess (two holders or two leaders would follow); our embedded server behaves as Apache.
enum SequenceNumbers {
    /// The number a suffix spells (`0000000042`, `-000000005`, `-2147483648`); `nil` if it is not one.
    static func parse<S: StringProtocol>(_ text: S) -> Int32? {
        guard let first = text.first, first == "-" || ("0"..."9").contains(first) else { return nil }
        return Int32(text)
    }

    /// Whether `value` still orders creations: `0 ..< Int32.max` (the first `Int32.max` may be repeated).
    static func isUsable(_ value: Int32) -> Bool { value >= 0 && value < .max }

    /// Whether `suffix` is a sequence past the usable range (`2147483647` or negative).
    static func isExhausted<S: StringProtocol>(_ suffix: S) -> Bool {
        parse(suffix).map { !isUsable($0) } ?? false
    }
}
