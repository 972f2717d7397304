/// A manual clock's instant: tests of pure state machines move time by hand.
public struct ManualInstant: InstantProtocol {
    public var offset: Duration
    public init(offset: Duration) { self.offset = offset }
    public static func at(_ milliseconds: Int64) -> ManualInstant { ManualInstant(offset: .milliseconds(milliseconds)) }
    public func advanced(by duration: Duration) -> ManualInstant { ManualInstant(offset: offset + duration) }
    public func duration(to other: ManualInstant) -> Duration { other.offset - offset }
    public static func < (lhs: ManualInstant, rhs: ManualInstant) -> Bool { lhs.offset < rhs.offset }
}
