import ZooKeeperProtocol

// Quota bookkeeping (`DataTree.updateQuotaStat/updateQuotaForPath/getMaxPrefixWithQuota`) and the
// hard-limit check (`ZooKeeperServer.checkQuota`).
extension DataTree {
    /// The deepest path with a quota that is `path` or one of its ancestors; nil for none or "/".
    package func maxPrefixWithQuota(_ path: String) -> String? {
        guard !quotaPaths.isEmpty else { return nil }
        var best: String?
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            if quotaPaths.contains(current) { best = current }
        }
        return best
    }

    /// Adds to the counters in the quota's `zookeeper_stats` node (data only; the stat node's own
    /// stat does not change, as in Apache).
    mutating func updateQuotaStat(_ prefix: String, bytesDiff: Int64, countDiff: Int64) {
        let statPath = Quotas.statPath(prefix)
        guard nodes[statPath] != nil else { return }
        update(statPath) { node in
            var track = StatsTrack(node.data)
            // Wrapping, as Java's long does: the counters are text any client may write (the quota
            // tree is world-writable), e.g. count=9223372036854775807; trapping would stop the server
            // and every replay of the log after it.
            track.count &+= countDiff
            track.bytes &+= bytesDiff
            node.data = track.bytesValue
        }
    }

    /// Recounts a quota's subtree into its `zookeeper_stats` node (when that node is created).
    mutating func updateQuotaForPath(_ path: String) {
        var count: Int64 = 0
        var bytes: Int64 = 0
        var stack = [path]
        while let current = stack.popLast() {
            guard let node = nodes[current] else { continue }
            count += 1
            bytes += Int64(node.data.count)
            for child in node.children { stack.append(current == "/" ? "/" + child : current + "/" + child) }
        }
        var track = StatsTrack()
        track.bytes = bytes
        track.count = count
        let statPath = Quotas.statPath(path)
        guard nodes[statPath] != nil else { return }
        update(statPath) { $0.data = track.bytesValue }
    }

    /// `ZooKeeperServer.checkQuota`: a hard limit that the change would pass throws `.quotaExceeded`;
    /// a soft limit only produces a warning (returned). `countDiff` 1 for create, 0 for setData.
    package func checkQuota(path: String, lastData: [UInt8]?, data: [UInt8], countDiff: Int64) throws(DataTreeError) -> String? {
        guard let prefix = maxPrefixWithQuota(path) else { return nil }
        let bytesDiff = Int64(data.count) - Int64(lastData?.count ?? 0)
        guard let limitNode = nodes[Quotas.limitPath(prefix)] else { return nil }
        let limits = StatsTrack(limitNode.data)
        let checkCount = countDiff != 0 && (limits.count > -1 || limits.countHardLimit > -1)
        let checkBytes = bytesDiff != 0 && (limits.bytes > -1 || limits.byteHardLimit > -1)
        guard checkCount || checkBytes, let statNode = nodes[Quotas.statPath(prefix)] else { return nil }
        let current = StatsTrack(statNode.data)
        var warning: String?
        if checkCount {
            let newCount = current.count &+ countDiff  // wraps like Java's long (client-written text)
            let hard = limits.countHardLimit > -1
            let limit = hard ? limits.countHardLimit : limits.count
            if newCount > limit {
                if hard { throw DataTreeError(.quotaExceeded) }
                warning = "Quota exceeded: \(prefix) [current count=\(newCount), softCountLimit=\(limit)]"
            }
        }
        if checkBytes {
            let newBytes = current.bytes &+ bytesDiff
            let hard = limits.byteHardLimit > -1
            let limit = hard ? limits.byteHardLimit : limits.bytes
            if newBytes > limit {
                if hard { throw DataTreeError(.quotaExceeded) }
                warning = "Quota exceeded: \(prefix) [current bytes=\(newBytes), softByteLimit=\(limit)]"
            }
        }
        return warning
    }
}
