/// The quota record stored as text in `zookeeper_limits` and `zookeeper_stats` nodes (Apache's
/// `StatsTrack`), e.g. `count=5,bytes=-1=;byteHardLimit=1000;countHardLimit=-1` — the stray `=`
/// after `bytes` keeps 3.4-era parsers working. Missing keys read as -1.
package struct StatsTrack: Sendable, Hashable {
    package var values: [String: Int64] = [:]

    package init() {}

    /// Parses pairs separated by runs of `,`/`;`; an empty value reads as -1. Unparseable numbers
    /// (Apache throws) are skipped.
    package init(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        for pair in text.split(whereSeparator: { $0 == "," || $0 == ";" }) {
            let kv = ACLPolicy.javaSplit(String(pair), "=")
            guard let key = kv.first else { continue }
            let raw = kv.count > 1 ? String(kv[1]) : ""
            if raw.isEmpty {
                values[String(key)] = -1
            } else if let value = Int64(raw) {
                values[String(key)] = value
            }
        }
    }

    package var count: Int64 {
        get { values["count"] ?? -1 }
        set { values["count"] = newValue }
    }
    package var bytes: Int64 {
        get { values["bytes"] ?? -1 }
        set { values["bytes"] = newValue }
    }
    package var countHardLimit: Int64 {
        get { values["countHardLimit"] ?? -1 }
        set { values["countHardLimit"] = newValue }
    }
    package var byteHardLimit: Int64 {
        get { values["byteHardLimit"] ?? -1 }
        set { values["byteHardLimit"] = newValue }
    }

    /// `StatsTrack.toString`.
    package var text: String {
        var result = "count=\(count),bytes=\(bytes)"
        let others = values.keys.filter { $0 != "count" && $0 != "bytes" }.sorted()
        if !others.isEmpty {
            result += "="
            for key in others { result += ";\(key)=\(values[key] ?? -1)" }
        }
        return result
    }

    package var bytesValue: [UInt8] { Array(text.utf8) }
}

/// Quota node names and paths (Apache's `Quotas`).
package enum Quotas {
    package static let quotaZookeeper = "/zookeeper/quota"
    package static let limitNode = "zookeeper_limits"
    package static let statNode = "zookeeper_stats"

    package static func limitPath(_ path: String) -> String { quotaZookeeper + path + "/" + limitNode }
    package static func statPath(_ path: String) -> String { quotaZookeeper + path + "/" + statNode }

    /// `/zookeeper/quota/a/b` → `/a/b`.
    package static func trimQuotaPath(_ path: String) -> String {
        path.hasPrefix(quotaZookeeper) ? String(path.dropFirst(quotaZookeeper.count)) : path
    }
}
