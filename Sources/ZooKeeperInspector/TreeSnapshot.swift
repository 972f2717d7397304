public import ZooKeeperProtocol

/// One znode as read: its path, data and `Stat`.
public struct ZNodeEntry: Sendable, Hashable {
    public var path: String
    public var data: [UInt8]
    public var stat: Stat

    public init(path: String, data: [UInt8] = [], stat: Stat = Stat()) {
        self.path = path
        self.data = data
        self.stat = stat
    }

    /// The last path segment (`/a/b` → `b`; `/` → ``).
    public var name: String { path.split(separator: "/").last.map(String.init) ?? "" }
    /// Owned by a session (containers and TTL nodes carry negative markers instead).
    public var isEphemeral: Bool { stat.ephemeralOwner > 0 }
}

/// A picture of (part of) a tree at one moment: what recipe recognition reads. Pure data.
public struct TreeSnapshot: Sendable {
    /// Every node read, by path.
    public private(set) var entries: [String: ZNodeEntry]
    /// Each read node's children's names, sorted.
    public private(set) var childNames: [String: [String]]
    /// Whether the read stopped at its node limit (recognition then sees part of the tree).
    public var truncated: Bool

    /// A snapshot of `entries`; the children lists follow from the paths.
    public init(_ entries: [ZNodeEntry], truncated: Bool = false) {
        var byPath: [String: ZNodeEntry] = [:]
        var children: [String: [String]] = [:]
        for entry in entries {
            byPath[entry.path] = entry
            if entry.path != "/" { children[Self.parent(of: entry.path), default: []].append(entry.name) }
        }
        for key in children.keys { children[key]!.sort() }
        self.entries = byPath
        self.childNames = children
        self.truncated = truncated
    }

    public func entry(_ path: String) -> ZNodeEntry? { entries[path] }
    public func children(of path: String) -> [String] { childNames[path] ?? [] }
    /// The entries of `path`'s children, in name order.
    public func childEntries(of path: String) -> [ZNodeEntry] {
        children(of: path).compactMap { entries[Self.join(path, $0)] }
    }

    /// Every path, sorted.
    public var paths: [String] { entries.keys.sorted() }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    static func join(_ parent: String, _ name: String) -> String { parent == "/" ? "/" + name : parent + "/" + name }
}
