import ZooKeeperProtocol
import ZooKeeperClient

/// Reads a whole tree into a ``TreeSnapshot`` level by level, each level's reads pipelined (one round
/// trip per batch, not per node). Nodes that vanish while it reads are left out; it stops at `maxNodes`.
struct TreeReader: Sendable {
    let client: ZooKeeperClient
    let maxNodes: Int
    /// Requests in flight at once.
    let batchSize = 256

    func read(from root: ZNodePath = .root) async throws -> TreeSnapshot {
        var entries: [ZNodeEntry] = []
        var level: [ZNodePath] = [root]
        var truncated = false
        while !level.isEmpty {
            var next: [ZNodePath] = []
            for start in stride(from: 0, to: level.count, by: batchSize) {
                let batch = Array(level[start..<min(start + batchSize, level.count)])
                let read = try await readBatch(batch)
                for entry in read.entries {
                    guard entries.count < maxNodes else {
                        truncated = true
                        break
                    }
                    entries.append(entry)
                }
                next += read.children
            }
            if truncated { break }
            level = next
        }
        return TreeSnapshot(entries, truncated: truncated)
    }

    /// Data and stat of each path, then the children of those that have any.
    private func readBatch(_ paths: [ZNodePath]) async throws -> (entries: [ZNodeEntry], children: [ZNodePath]) {
        let data = try await client.pipeline(paths.map { PipelinedOperation.getData($0) })
        var entries: [ZNodeEntry] = []
        var parents: [ZNodePath] = []
        for (path, result) in zip(paths, data) {
            guard case let .success(.data(bytes, stat)) = result else { continue }
            entries.append(ZNodeEntry(path: path.string, data: bytes, stat: stat))
            if stat.numChildren > 0 { parents.append(path) }
        }
        guard !parents.isEmpty else { return (entries, []) }
        let listings = try await client.pipeline(parents.map { PipelinedOperation.getChildren($0) })
        var children: [ZNodePath] = []
        for (parent, result) in zip(parents, listings) {
            guard case let .success(.children(names)) = result else { continue }
            for name in names.sorted() {
                if let child = try? parent.appending(name) { children.append(child) }
            }
        }
        return (entries, children)
    }
}
