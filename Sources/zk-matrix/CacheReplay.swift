import ZooKeeperClient
import ZooKeeperRecipes

/// One cache's event stream, replayed and checked as it arrives: `.initialized` first; `.created` only
/// for a path not present, `.changed` and `.deleted` only for one present; every `.changed` strictly
/// newer (`mzxid`) than the copy it replaces and its value (the writer's counter) not smaller — the
/// cache may coalesce writes, but never goes backwards nor repeats one.
final class CacheReplay: Sendable {
    struct State: Sendable {
        var nodes: [ZNodePath: ChildData] = [:]
        var initialized = false
        var events = 0
        var resyncs = 0
        var finished = false
        var violations: [String] = []
    }
    let label: String
    let state = Shared(State())

    init(_ label: String) { self.label = label }

    /// Applies every event until the stream finishes (close or session loss).
    func follow(_ events: AsyncStream<CacheEvent>) async {
        for await event in events { apply(event) }
        state.withLock { $0.finished = true }
    }

    func apply(_ event: CacheEvent) {
        state.withLock { state in
            state.events += 1
            if case .initialized(let snapshot) = event {
                if state.initialized { state.violations.append("\(label): a second .initialized") }
                state.nodes = snapshot
                state.initialized = true
                return
            }
            guard state.initialized else {
                state.violations.append("\(label): \(event) before .initialized")
                return
            }
            switch event {
            case .initialized: break
            case .created(let node):
                if state.nodes[node.path] != nil { state.violations.append("\(label): created \(node.path) twice") }
                state.nodes[node.path] = node
            case .changed(let node):
                guard let old = state.nodes[node.path] else {
                    state.violations.append("\(label): changed \(node.path) never created")
                    state.nodes[node.path] = node
                    return
                }
                if node.stat.czxid == old.stat.czxid, node.stat.mzxid <= old.stat.mzxid {
                    state.violations.append("\(label): \(node.path) went from mzxid \(old.stat.mzxid) to \(node.stat.mzxid)")
                }
                if let before = Self.counter(old), let after = Self.counter(node), node.stat.czxid == old.stat.czxid, after < before {
                    state.violations.append("\(label): \(node.path) went back from value \(before) to \(after)")
                }
                state.nodes[node.path] = node
            case .deleted(let path):
                if state.nodes.removeValue(forKey: path) == nil { state.violations.append("\(label): deleted \(path) never present") }
            case .resynced:
                state.resyncs += 1
            }
        }
    }

    /// The writer's counter in a node's data, if it holds one.
    static func counter(_ node: ChildData) -> Int? { Int(String(decoding: node.data, as: UTF8.self)) }
}

/// `path` and its children as the server has them now: path → (data, mzxid).
func serverTree(_ client: ZooKeeperClient, _ path: ZNodePath) async throws -> [ZNodePath: ServerNode] {
    var nodes: [ZNodePath: ServerNode] = [:]
    let (data, stat) = try await client.getData(path)
    nodes[path] = ServerNode(data: data, mzxid: stat.mzxid)
    for child in try await client.getChildren(path) {
        let childPath = try path.appending(child)
        do {
            let (data, stat) = try await client.getData(childPath)
            nodes[childPath] = ServerNode(data: data, mzxid: stat.mzxid)
        } catch let error as ZooKeeperError where error.code == .noNode {}
    }
    return nodes
}

struct ServerNode: Hashable, Sendable {
    var data: [UInt8]
    var mzxid: Int64
}

/// What differs between a cache's copy and the server's tree (nil: the same).
func difference(_ cached: [ZNodePath: ChildData], _ server: [ZNodePath: ServerNode]) -> String? {
    let mine = cached.mapValues { ServerNode(data: $0.data, mzxid: $0.stat.mzxid) }
    guard mine != server else { return nil }
    let paths = Set(mine.keys).union(server.keys).filter { mine[$0] != server[$0] }.map(\.string).sorted()
    return "cache and server differ at \(paths.prefix(4))"
}
