/// How a znode is created (`CreateMode`), with ZooKeeper's flag numbers.
public enum CreateMode: Int32, Sendable, Hashable, CaseIterable, Codable {
    case persistent = 0
    case ephemeral = 1
    case persistentSequential = 2
    case ephemeralSequential = 3
    /// Deleted by the server once its last child is gone (after it has had one).
    case container = 4
    /// Deleted once it has no children and `ttl` has passed since its last change. Needs `extendedTypesEnabled`.
    case persistentWithTTL = 5
    case persistentSequentialWithTTL = 6

    public var isEphemeral: Bool { self == .ephemeral || self == .ephemeralSequential }
    public var isSequential: Bool {
        self == .persistentSequential || self == .ephemeralSequential || self == .persistentSequentialWithTTL
    }
    public var isContainer: Bool { self == .container }
    public var isTTL: Bool { self == .persistentWithTTL || self == .persistentSequentialWithTTL }
}

/// Special `ephemeralOwner` values the server uses for non-ephemeral node kinds (`EphemeralType`).
public enum EphemeralOwner {
    /// A container node's `ephemeralOwner`.
    public static let container = Int64(bitPattern: 0x8000_0000_0000_0000)
    /// High byte marking a TTL node; the low 40 bits hold the TTL in milliseconds.
    public static let ttlMask = Int64(bitPattern: 0xFF00_0000_0000_0000)
    /// The largest TTL in milliseconds.
    public static let maxTTL: Int64 = 0xFF_FFFF_FFFF
}
