import ZooKeeperProtocol

// What the four-letter words and admin commands print about the tree. Apache iterates hash maps;
// we sort (sessions ascending, paths lexicographically) so the output is stable.
extension ZooKeeperDatabase {
    /// Ephemeral paths by owning session (`DataTree.getEphemerals`).
    package var ephemeralsBySession: [Int64: [String]] {
        tree.ephemerals.mapValues { $0.sorted() }
    }

    /// Data watches by session (`wchc`; data watches only, as Apache's `dumpWatches`).
    package var dataWatchesBySession: [Int64: [String]] {
        tree.dataWatches.bySession.mapValues { $0.sorted() }
    }

    /// Data watches by path (`wchp`).
    package var dataWatchesByPath: [String: [Int64]] {
        tree.dataWatches.byPath.mapValues { $0.keys.sorted() }
    }

    /// `wchs`: `<n> connections watching <m> paths\nTotal watches:<t>` over data watches only
    /// (while `mntr`'s `zk_watch_count` is ``watchCount``, data + child).
    package var watchSummaryText: String {
        let table = tree.dataWatches
        let total = table.bySession.values.reduce(0) { $0 + $1.count }
        return "\(table.bySession.count) connections watching \(table.byPath.count) paths\nTotal watches:\(total)"
    }

    /// `wchc` body: `0x<session>` then a tab-indented line per path.
    package var watchesBySessionText: String {
        var text = ""
        for (session, paths) in dataWatchesBySession.sorted(by: { $0.key < $1.key }) {
            text += "0x\(Self.hex(session))\n"
            for path in paths { text += "\t\(path)\n" }
        }
        return text
    }

    /// `wchp` body: the path then a tab-indented `0x<session>` line per watcher.
    package var watchesByPathText: String {
        var text = ""
        for (path, sessions) in dataWatchesByPath.sorted(by: { $0.key < $1.key }) {
            text += "\(path)\n"
            for session in sessions { text += "\t0x\(Self.hex(session))\n" }
        }
        return text
    }

    /// The ephemerals part of `dump` (`DataTree.dumpEphemerals`).
    package var ephemeralsDumpText: String {
        let all = ephemeralsBySession.sorted(by: { $0.key < $1.key })
        var text = "Sessions with Ephemerals (\(all.count)):\n"
        for (session, paths) in all {
            text += "0x\(Self.hex(session)):\n"
            for path in paths { text += "\t\(path)\n" }
        }
        return text
    }

    /// Java's `Long.toHexString`: unsigned, lower case, no padding.
    package static func hex(_ value: Int64) -> String {
        String(UInt64(bitPattern: value), radix: 16)
    }
}
