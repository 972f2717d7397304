import ZooKeeperClient
import ZooKeeperTestSupport

// The operations of a differential run and the seeded generator that picks them.
// The generator is pure: the same seed and the same feedback give the same sequence.

/// The ACLs a create or setACL may use. Anything but `.open` only on ``DiffUniverse/protectedPaths``.
enum DiffACL: Int, CaseIterable, Sendable, CustomStringConvertible {
    case open, worldRead, worldNoRead, aliceAll, aliceAllWorldRead, creatorAll, bobNoAdminWorldAdmin
    case ipLoopback, unknownScheme, malformedDigest, duplicateEntries

    var acl: [ACL] {
        switch self {
        case .open: return .openACLUnsafe
        case .worldRead: return .readACLUnsafe
        case .worldNoRead: return [.world([.create, .delete, .write, .admin])]
        case .aliceAll: return [.digest(user: "alice", password: "pw-alice", perms: .all)]
        case .aliceAllWorldRead: return [.digest(user: "alice", password: "pw-alice", perms: .all), .world(.read)]
        case .creatorAll: return .creatorAllACL
        case .bobNoAdminWorldAdmin:
            return [.digest(user: "bob", password: "pw-bob", perms: [.read, .write, .create, .delete]), .world(.admin)]
        case .ipLoopback: return [.ip("127.0.0.1", perms: [.read, .write, .create]), .world(.admin)]
        case .unknownScheme: return [ACL(perms: .all, id: Id(scheme: "nosuch", id: "x"))]
        case .malformedDigest: return [ACL(perms: .all, id: Id(scheme: "digest", id: "no-colon"))]
        case .duplicateEntries: return [.world(.read), .world(.read), .world([.create, .delete])]
        }
    }

    var description: String { "\(self.rawValueName)" }
    private var rawValueName: String {
        switch self {
        case .open: "open"
        case .worldRead: "world:r"
        case .worldNoRead: "world:cdwa"
        case .aliceAll: "alice:all"
        case .aliceAllWorldRead: "alice:all+world:r"
        case .creatorAll: "auth:all"
        case .bobNoAdminWorldAdmin: "bob:rwcd+world:a"
        case .ipLoopback: "ip:127.0.0.1:rwc+world:a"
        case .unknownScheme: "nosuch:x"
        case .malformedDigest: "digest:no-colon"
        case .duplicateEntries: "world:r,world:r,world:cd"
        }
    }
}

/// One step of a run: an operation by one of the sessions (a slot 0..<sessionCount).
enum DiffOp: Sendable, CustomStringConvertible {
    case create(slot: Int, path: String, data: [UInt8], acl: DiffACL, mode: CreateMode, ttl: Duration?, withStat: Bool)
    case delete(slot: Int, path: String, version: Int32?)
    case setData(slot: Int, path: String, data: [UInt8], version: Int32?)
    case exists(slot: Int, path: String, watch: Bool)
    case getData(slot: Int, path: String, watch: Bool)
    /// `watch` uses getChildren2 (the client's getChildrenWatching); `withStat` without watch too.
    case getChildren(slot: Int, path: String, watch: Bool, withStat: Bool)
    case getACL(slot: Int, path: String)
    case setACL(slot: Int, path: String, acl: DiffACL, version: Int32?)
    case sync(slot: Int, path: String)
    case check(slot: Int, path: String, version: Int32)
    case multi(slot: Int, ops: [Operation])
    case multiRead(slot: Int, ops: [ReadOperation])
    case getEphemerals(slot: Int, prefix: String)
    case getAllChildrenNumber(slot: Int, path: String)
    case addWatch(slot: Int, path: String, mode: AddWatchMode)
    case removeWatches(slot: Int, path: String, type: WatcherType)
    case checkWatches(slot: Int, path: String, type: WatcherType)
    case addAuth(slot: Int, user: String)
    case whoAmI(slot: Int)
    /// `/zookeeper/config`, outside the chroot.
    case getConfig(slot: Int)
    /// Closes the slot's session (ephemerals vanish, watchers fire) and opens a new one in its place.
    case closeSession(slot: Int)

    var slot: Int {
        switch self {
        case let .create(slot, _, _, _, _, _, _), let .delete(slot, _, _), let .setData(slot, _, _, _),
            let .exists(slot, _, _), let .getData(slot, _, _), let .getChildren(slot, _, _, _), let .getACL(slot, _),
            let .setACL(slot, _, _, _), let .sync(slot, _), let .check(slot, _, _), let .multi(slot, _),
            let .multiRead(slot, _), let .getEphemerals(slot, _), let .getAllChildrenNumber(slot, _),
            let .addWatch(slot, _, _), let .removeWatches(slot, _, _), let .checkWatches(slot, _, _),
            let .addAuth(slot, _), let .whoAmI(slot), let .getConfig(slot), let .closeSession(slot):
            return slot
        }
    }

    /// Whether the operation may change the tree or end a session (and so fire other sessions' watches).
    var mayNotifyOthers: Bool {
        switch self {
        case .create, .delete, .setData, .setACL, .multi, .closeSession: return true
        default: return false
        }
    }

    var description: String {
        func v(_ version: Int32?) -> String { version.map(String.init) ?? "any" }
        func d(_ data: [UInt8]) -> String { "\"" + String(decoding: data, as: UTF8.self) + "\"" }
        switch self {
        case let .create(slot, path, data, acl, mode, ttl, withStat):
            let ttlText = ttl.map { " ttl=\($0)" } ?? ""
            return "S\(slot) \(withStat ? "create2" : "create") \(path) \(d(data)) \(mode) acl=\(acl)\(ttlText)"
        case let .delete(slot, path, version): return "S\(slot) delete \(path) v=\(v(version))"
        case let .setData(slot, path, data, version): return "S\(slot) setData \(path) \(d(data)) v=\(v(version))"
        case let .exists(slot, path, watch): return "S\(slot) exists\(watch ? "Watching" : "") \(path)"
        case let .getData(slot, path, watch): return "S\(slot) getData\(watch ? "Watching" : "") \(path)"
        case let .getChildren(slot, path, watch, withStat):
            return "S\(slot) getChildren\(watch ? "Watching" : withStat ? "WithStat" : "") \(path)"
        case let .getACL(slot, path): return "S\(slot) getACL \(path)"
        case let .setACL(slot, path, acl, version): return "S\(slot) setACL \(path) \(acl) v=\(v(version))"
        case let .sync(slot, path): return "S\(slot) sync \(path)"
        case let .check(slot, path, version): return "S\(slot) check \(path) v=\(version)"
        case let .multi(slot, ops): return "S\(slot) multi \(ops.map(Self.describe))"
        case let .multiRead(slot, ops): return "S\(slot) multiRead \(ops)"
        case let .getEphemerals(slot, prefix): return "S\(slot) getEphemerals \(prefix)"
        case let .getAllChildrenNumber(slot, path): return "S\(slot) getAllChildrenNumber \(path)"
        case let .addWatch(slot, path, mode): return "S\(slot) addWatch \(path) \(mode)"
        case let .removeWatches(slot, path, type): return "S\(slot) removeWatches \(path) \(type)"
        case let .checkWatches(slot, path, type): return "S\(slot) checkWatches \(path) \(type)"
        case let .addAuth(slot, user): return "S\(slot) addAuth digest \(user)"
        case let .whoAmI(slot): return "S\(slot) whoAmI"
        case let .getConfig(slot): return "S\(slot) getConfig"
        case let .closeSession(slot): return "S\(slot) closeSession (and reopen)"
        }
    }

    static func describe(_ op: Operation) -> String {
        switch op {
        case let .create(path, data, acl, mode, ttl):
            return "create(\(path) \"\(String(decoding: data, as: UTF8.self))\" \(mode) acl=\(acl.count == 1 && acl == .openACLUnsafe ? "open" : "\(acl)")\(ttl.map { " ttl=\($0)" } ?? ""))"
        case let .delete(path, version): return "delete(\(path) v=\(version.map(String.init) ?? "any"))"
        case let .setData(path, data, version):
            return "setData(\(path) \"\(String(decoding: data, as: UTF8.self))\" v=\(version.map(String.init) ?? "any"))"
        case let .check(path, version): return "check(\(path) v=\(version))"
        }
    }
}

/// The small world of paths a run plays in (all relative to the run's chroot).
enum DiffUniverse {
    /// Always created with the open ACL, so `existsWatching` behaves the same on 3.8.0 and 3.8.4 here.
    static let openPaths = ["/a", "/a/b", "/a/b/c", "/a/d", "/s", "/c", "/c/x", "/c/x/y", "/t", "/t/x", "/e", "/e/f", "/x/y"]
    /// Where every ACL variant is used.
    static let protectedPaths = ["/p", "/p/q", "/p/q/r"]
    /// Parents under which sequential nodes are made, as create prefixes.
    static let sequentialPrefixes = ["/s/n-", "/s/", "/a/q-", "/p/q-", "/c/n-"]
    static let users = ["alice", "bob"]
    /// Parents of most other paths: created often, so deeper paths exist often enough.
    static let topLevel = ["/a", "/s", "/c", "/t", "/e", "/p", "/x", "/a/b", "/p/q"]

    /// `/p`, its subtree, and sequential siblings made from the `/p` prefix (`/p0000000004`).
    static func isProtected(_ path: String) -> Bool { path.hasPrefix("/p") }
}

/// What the generator learns from the reference side after each step (Apache's replies).
struct DiffFeedback: Sendable {
    var createdPaths: [String] = []
    /// path → (dataVersion, aversion) seen in a returned Stat.
    var versions: [String: (Int32, Int32)] = [:]
}

/// Picks operations from a seed. Uses Apache's answers (``DiffFeedback``) to aim versions and to
/// reach sequential nodes; both servers always get the very same operation.
struct DiffGenerator {
    var rng: SplitMix64
    let sessionCount: Int
    private var sequentialNodes: [String] = []
    private var versions: [String: (Int32, Int32)] = [:]

    init(seed: UInt64, sessionCount: Int) {
        rng = SplitMix64(seed: seed)
        self.sessionCount = sessionCount
    }

    mutating func learn(_ feedback: DiffFeedback) {
        for path in feedback.createdPaths where !sequentialNodes.contains(path) && path.last?.isNumber == true {
            sequentialNodes.append(path)
            if sequentialNodes.count > 24 { sequentialNodes.removeFirst() }
        }
        // Never "/": it is the run's chroot node, which writes must not touch.
        for (path, version) in feedback.versions where path != "/" { versions[path] = version }
    }

    private mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &rng) }
    private mutating func chance(_ percent: Int) -> Bool { int(0..<100) < percent }
    private mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }

    private mutating func path() -> String {
        let roll = int(0..<100)
        if roll < 15, !sequentialNodes.isEmpty { return pick(sequentialNodes) }
        // Paths Apache recently answered a Stat for: mostly existing nodes, so fewer noNode steps.
        if roll < 40, !versions.isEmpty { return pick(versions.keys.sorted()) }
        if roll < 55 { return pick(DiffUniverse.protectedPaths) }
        return pick(DiffUniverse.openPaths)
    }

    /// A path that is always open-ACL (for exists watches: see ``DiffUniverse/openPaths``).
    private mutating func openPath() -> String {
        let open = (sequentialNodes + versions.keys.sorted()).filter { !DiffUniverse.isProtected($0) }
        if chance(15), !open.isEmpty { return pick(open) }
        return pick(DiffUniverse.openPaths)
    }

    private mutating func readPath() -> String { chance(6) ? "/" : path() }

    private mutating func data() -> [UInt8] { (0..<int(0..<7)).map { _ in UInt8(int(97..<123)) } }

    private mutating func version(_ path: String, acl: Bool = false) -> Int32? {
        let roll = int(0..<100)
        if roll < 40 { return nil }
        if roll < 80, let known = versions[path] { return acl ? known.1 : known.0 }
        return Int32(int(0..<4))
    }

    private mutating func acl(for path: String) -> DiffACL {
        DiffUniverse.isProtected(path) ? DiffACL(rawValue: int(0..<DiffACL.allCases.count))! : .open
    }

    private mutating func createArguments() -> (path: String, mode: CreateMode, ttl: Duration?) {
        let roll = int(0..<100)
        let mode: CreateMode
        switch roll {
        case 0..<40: mode = .persistent
        case 40..<55: mode = .ephemeral
        case 55..<65: mode = .persistentSequential
        case 65..<75: mode = .ephemeralSequential
        case 75..<87: mode = .container
        case 87..<95: mode = .persistentWithTTL
        default: mode = .persistentSequentialWithTTL
        }
        let path = mode.isSequential && chance(80) ? pick(DiffUniverse.sequentialPrefixes)
            : chance(30) ? pick(DiffUniverse.topLevel) : self.path()
        let ttl: Duration? = mode.isTTL ? (chance(90) ? .seconds(3600) : .milliseconds(0)) : nil
        return (path, mode, ttl)
    }

    mutating func next() -> DiffOp {
        let slot = int(0..<sessionCount)
        let roll = int(0..<1000)
        switch roll {
        case 0..<190:
            let (path, mode, ttl) = createArguments()
            return .create(slot: slot, path: path, data: data(), acl: acl(for: path), mode: mode, ttl: ttl,
                           withStat: chance(35))
        case 190..<290:
            let path = path()
            return .delete(slot: slot, path: path, version: version(path))
        case 290..<390:
            let path = path()
            return .setData(slot: slot, path: path, data: data(), version: version(path))
        case 390..<430: return .exists(slot: slot, path: readPath(), watch: false)
        case 430..<480: return .exists(slot: slot, path: openPath(), watch: true)
        case 480..<510: return .getData(slot: slot, path: readPath(), watch: false)
        case 510..<555: return .getData(slot: slot, path: path(), watch: true)
        case 555..<575: return .getChildren(slot: slot, path: readPath(), watch: false, withStat: false)
        case 575..<590: return .getChildren(slot: slot, path: readPath(), watch: false, withStat: true)
        case 590..<630: return .getChildren(slot: slot, path: readPath(), watch: true, withStat: true)
        case 630..<655: return .getACL(slot: slot, path: path())
        case 655..<690:
            let path = path()
            return .setACL(slot: slot, path: path, acl: acl(for: path), version: version(path, acl: true))
        case 690..<700: return .sync(slot: slot, path: readPath())
        case 700..<730:
            let path = path()
            return .check(slot: slot, path: path, version: version(path) ?? -1)
        case 730..<800: return .multi(slot: slot, ops: (0..<int(1..<5)).map { _ in multiOp() })
        case 800..<830:
            return .multiRead(slot: slot, ops: (0..<int(1..<4)).map { _ in
                chance(50) ? .getData(ZNodePath(unchecked: readPath())) : .getChildren(ZNodePath(unchecked: readPath()))
            })
        case 830..<845: return .getEphemerals(slot: slot, prefix: pick(["/", "", "/a", "/e", "/p/", "/s/n", "/zz"]))
        case 845..<860: return .getAllChildrenNumber(slot: slot, path: readPath())
        case 860..<890:
            return .addWatch(slot: slot, path: chance(20) ? "/" : path(), mode: chance(50) ? .persistent : .persistentRecursive)
        case 890..<925:
            return .removeWatches(slot: slot, path: readPath(), type: pick([WatcherType.children, .data, .any]))
        case 925..<960:
            return .checkWatches(slot: slot, path: readPath(), type: pick([WatcherType.children, .data, .any]))
        case 960..<975: return .addAuth(slot: slot, user: pick(DiffUniverse.users))
        case 975..<980: return .whoAmI(slot: slot)
        case 980..<985: return .getConfig(slot: slot)
        default: return .closeSession(slot: slot)
        }
    }

    private mutating func multiOp() -> Operation {
        let roll = int(0..<100)
        switch roll {
        case 0..<35:
            let (path, mode, ttl) = createArguments()
            return .create(ZNodePath(unchecked: path), data: data(), acl: acl(for: path).acl, mode: mode, ttl: ttl)
        case 35..<60:
            let path = path()
            return .delete(ZNodePath(unchecked: path), version: version(path))
        case 60..<85:
            let path = path()
            return .setData(ZNodePath(unchecked: path), data: data(), version: version(path))
        default:
            let path = path()
            return .check(ZNodePath(unchecked: path), version: version(path) ?? -1)
        }
    }
}
