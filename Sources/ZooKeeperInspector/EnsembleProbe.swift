import Foundation
import ZooKeeperClient
import ZooKeeperHTTP
import ZooKeeperPOSIX

/// Asks each ensemble member for `srvr` and `mntr` over a plain socket (ZooKeeper's four-letter words).
/// Apache servers answer only whitelisted words (`4lw.commands.whitelist=srvr,mntr`, or `*`); a refusal,
/// an unreachable member or a timeout becomes that member's error.
struct EnsembleProbe: Sendable {
    let servers: [ServerAddress]
    let timeout: Duration

    /// One row per member, in the order given.
    func probe() async -> JSONValue {
        var rows: [JSONValue] = []
        for server in servers {
            rows.append(await Self.onThread { Self.member(server, timeout: timeout) })
        }
        return .array(rows)
    }

    /// The blocking socket work runs on a thread of its own, not on the cooperative pool.
    private static func onThread(_ work: @escaping @Sendable () -> JSONValue) async -> JSONValue {
        await withCheckedContinuation { (continuation: CheckedContinuation<JSONValue, Never>) in
            let thread = Thread { continuation.resume(returning: work()) }
            thread.name = "zk-inspector-4lw"
            thread.start()
        }
    }

    static func member(_ server: ServerAddress, timeout: Duration) -> JSONValue {
        var row = JSONObject()
        row.set("address", server.description)
        let srvr: [String: String]
        var mntr: [String: String] = [:], mntrError: String?
        do {
            srvr = try parseSrvr(ask("srvr", server, timeout: timeout))
            do { mntr = try parseMntr(ask("mntr", server, timeout: timeout)) } catch { mntrError = "\(error)" }
        } catch {
            row.set("ok", false)
            row.set("error", "\(error)")
            return row.value
        }
        row.set("ok", true)
        row.set("mode", mntr["zk_server_state"] ?? srvr["Mode"] ?? "?")
        row.set("zxid", srvr["Zxid"] ?? "?")
        row.set("connections", mntr["zk_num_alive_connections"] ?? srvr["Connections"] ?? "?")
        row.set("outstanding", mntr["zk_outstanding_requests"] ?? srvr["Outstanding"] ?? "?")
        row.set("latency", srvr["Latency min/avg/max"] ?? "?")
        row.set("nodeCount", mntr["zk_znode_count"] ?? srvr["Node count"] ?? "?")
        row.set("watches", mntr["zk_watch_count"] ?? "–")
        row.set("version", version(srvr["Zookeeper version"] ?? "?"))
        if let mntrError { row.set("mntrError", mntrError) }
        if let followers = mntr["zk_synced_followers"] { row.set("syncedFollowers", followers) }
        return row.value
    }

    struct ProbeError: Error, CustomStringConvertible {
        var description: String
    }

    /// The whole reply to `word` (the server closes after answering); throws on refusal or timeout.
    static func ask(_ word: String, _ server: ServerAddress, timeout: Duration) throws -> String {
        let text: String
        do {
            text = try FourLetterWord.ask(word, host: server.host, port: server.port, timeout: timeout)
        } catch .timedOut {
            throw ProbeError(description: "\(word): no answer within \(timeout)")
        }
        if text.contains("not in the whitelist") { throw ProbeError(description: "\(word) refused: add it to 4lw.commands.whitelist") }
        if text.isEmpty { throw ProbeError(description: "\(word): empty answer") }
        return text
    }

    /// `3.8.0-${mvngit.commit.id}, built on …` (Debian's build) → `3.8.0`; `3.8.0-shepherd` stays.
    static func version(_ text: String) -> String {
        let release = text.split(separator: ",").first.map(String.init) ?? text
        guard let placeholder = release.range(of: "-${") else { return release }
        return String(release[..<placeholder.lowerBound])
    }

    /// `Key: value` lines.
    static func parseSrvr(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    /// `key<TAB>value` lines.
    static func parseMntr(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]).trimmingCharacters(in: .whitespaces) }
        }
        return fields
    }
}
