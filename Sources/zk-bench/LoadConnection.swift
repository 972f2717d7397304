import Synchronization
import ZooKeeperClient

/// One connection of a throughput run and the znodes it owns: `dir/n<deleted>` … `dir/n<created-1>`
/// are live (the Java harness's bookkeeping). Its workers share it, so paths come from a lock.
final class LoadConnection: Sendable {
    private struct Counters {
        var created = 0
        var deleted = 0
        var cursor = 0
    }

    let zk: ZooKeeperClient
    let dir: String
    private let counters = Mutex(Counters())

    init(zk: ZooKeeperClient, dir: String) {
        self.zk = zk
        self.dir = dir
    }

    var liveCount: Int { counters.withLock { $0.created - $0.deleted } }

    /// The next path for `operation`: a new node for create, the oldest for delete, and round-robin
    /// over the live nodes for get/set. `nil` when there is nothing to read, write or delete.
    func nextPath(for operation: ThroughputMode.Operation) -> String? {
        let index = counters.withLock { counters -> Int? in
            let live = counters.created - counters.deleted
            switch operation {
            case .create:
                defer { counters.created += 1 }
                return counters.created
            case .delete:
                guard live > 0 else { return nil }
                defer { counters.deleted += 1 }
                return counters.deleted
            case .get, .set:
                guard live > 0 else { return nil }
                defer { counters.cursor &+= 1 }
                return counters.deleted + counters.cursor % live
            }
        }
        return index.map { dir + "/n" + String($0) }
    }

    /// Issues one request of `operation` on `path`.
    func perform(_ operation: ThroughputMode.Operation, path: String, data: [UInt8]) async throws {
        let node = try ZNodePath(path)
        switch operation {
        case .create: try await zk.create(node, data: data)
        case .get: _ = try await zk.getData(node)
        case .set: try await zk.setData(node, data: data)
        case .delete: try await zk.delete(node)
        }
    }
}
