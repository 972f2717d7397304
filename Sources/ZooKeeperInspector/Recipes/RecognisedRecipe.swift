import ZooKeeperProtocol
public import ZooKeeperHTTP

/// A recipe found in a tree's layout: what it is, where, and who takes part in which role.
public struct RecognisedRecipe: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case lock, semaphore, readWriteLock, leaderLatch, leaderSelector, queue, doubleBarrier, barrier, serviceDiscovery, group, counter
    }

    public var kind: Kind
    /// The recipe's node (the lock directory, the latch path, the queue, …).
    public var path: String
    /// Whose layout matched: `Curator/Shepherd`, `kazoo`, …
    public var flavour: String
    /// Lock and lease holders, the leader, a barrier's arrived members, a group's members.
    public var holders: [Participant] = []
    /// Contenders waiting, in the order they will be served.
    public var waiters: [Participant] = []
    /// Queue items (oldest first) or service instances.
    public var items: [Participant] = []
    /// Everything else worth showing, in display order (depth, oldest age, term, value, …).
    public var facts: [Fact] = []

    public init(kind: Kind, path: String, flavour: String) {
        self.kind = kind
        self.path = path
        self.flavour = flavour
    }

    /// The fact named `name`, if any.
    public func fact(_ name: String) -> JSONValue? { facts.first { $0.name == name }?.value }
}

/// One node's part in a recipe.
public struct Participant: Sendable, Hashable {
    /// The node's name (`_c_…-lock-0000000003`).
    public var name: String
    public var path: String
    /// The sequence suffix, when the name has one.
    public var sequence: Int?
    /// The owning session (`ephemeralOwner`; 0 for persistent nodes).
    public var session: Int64
    /// Creation time, ms since 1970.
    public var createdMs: Int64
    /// How long ago it was created, ms (relative to the snapshot's `now`).
    public var ageMs: Int64
    /// The fencing token of a lock holder: the node's `czxid`.
    public var czxid: Int64
    /// The node's data as text when it is printable (a latch participant's id, a member's payload).
    public var text: String?
    /// `reader` / `writer` for read/write locks; `processing` for a claimed queue item.
    public var role: String?

    public init(entry: ZNodeEntry, now: Int64, sequence: Int? = nil, role: String? = nil) {
        name = entry.name
        path = entry.path
        self.sequence = sequence
        session = entry.stat.ephemeralOwner
        createdMs = entry.stat.ctime
        ageMs = max(0, now - entry.stat.ctime)
        czxid = entry.stat.czxid
        text = DataRendering.printableText(entry.data)
        self.role = role
    }
}

/// A named value of a recognised recipe.
public struct Fact: Sendable, Hashable {
    public var name: String
    public var value: JSONValue

    public init(_ name: String, _ value: JSONValue) {
        self.name = name
        self.value = value
    }
}
