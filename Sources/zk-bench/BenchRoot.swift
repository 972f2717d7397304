import ZooKeeperClient

/// Where a run works: a unique node `/shepherd-bench/<mode>-<random>` created first and removed
/// (recursively) at the end, plus every client the run opened.
struct BenchRoot: Sendable {
    static let parent: ZNodePath = "/shepherd-bench"

    let connect: String
    let path: ZNodePath

    /// Connects an admin client and creates the run's root.
    static func create(mode: String, connect: String) async throws -> (BenchRoot, ZooKeeperClient) {
        let name = "\(mode)-\(String(UInt32.random(in: .min ... .max), radix: 16))"
        let root = BenchRoot(connect: connect, path: try parent.appending(name))
        let admin = try await root.client()
        do {
            do { try await admin.create(parent) } catch let error as ZooKeeperError where error.code == .nodeExists {}
            try await admin.create(root.path)
        } catch {
            await admin.close()
            throw error
        }
        return (root, admin)
    }

    /// Runs `body` under a fresh root for `mode`, removing the root afterwards whatever happens.
    static func with<T>(mode: String, connect: String, _ body: (BenchRoot) async throws -> T) async throws -> T {
        let (root, admin) = try await create(mode: mode, connect: connect)
        do {
            let result = try await body(root)
            await root.remove(using: admin)
            return result
        } catch {
            await root.remove(using: admin)
            throw error
        }
    }

    /// A new connected client (its own session).
    func client() async throws -> ZooKeeperClient {
        var configuration = try ZooKeeperConfiguration(connectionString: connect)
        configuration.sessionTimeout = .seconds(10)
        configuration.initialConnectionTimeout = .seconds(5)
        return try await ZooKeeperClient.connect(configuration)
    }

    func child(_ name: String) throws -> ZNodePath { try path.appending(name) }

    /// Deletes the root and everything under it, then closes `admin`. Runs even when the caller's
    /// task was cancelled (Ctrl-C), so the server is left clean; bounded by the client's own timeouts.
    func remove(using admin: ZooKeeperClient) async {
        let path = self.path
        await Task.detached {
            do { try await Self.deleteRecursively(path, using: admin) } catch {
                Output.warn("cleanup of \(path) failed: \(error)")
            }
            await admin.close()
        }.value
    }

    /// Deletes leaves in windows of 256 requests in flight.
    static func deleteRecursively(_ path: ZNodePath, using zk: ZooKeeperClient) async throws {
        let children: [String]
        do { children = try await zk.getChildren(path) } catch let error as ZooKeeperError where error.code == .noNode { return }
        var index = 0
        while index < children.count {
            let batch = children[index..<min(index + 256, children.count)]
            index += batch.count
            try await withThrowingTaskGroup(of: Void.self) { group in
                for name in batch {
                    let child = try path.appending(name)
                    group.addTask { try await deleteRecursively(child, using: zk) }
                }
                try await group.waitForAll()
            }
        }
        do { try await zk.delete(path) } catch let error as ZooKeeperError where error.code == .noNode {}
    }
}
