import ZooKeeperPOSIX

/// Sends a ZooKeeper four-letter word (`ruok`, `srvr`, `stat`, `mntr`, `cons`, `dump`, …) to
/// `host:port` and returns the whole reply (the server closes the connection after answering).
///
/// `timeout` bounds connect, write and read together.
/// Notable behaviours: the server must whitelist the word (`4lw.commands.whitelist`); a word that
/// is not whitelisted gets a "… is not executed because it is not in the whitelist." reply, and
/// an unknown word gets an empty reply (the server just closes).
public func sendFourLetterWord(_ word: String, host: String, port: Int, timeout: Duration) throws -> String {
    do {
        return try FourLetterWord.ask(word, host: host, port: port, timeout: timeout)
    } catch .timedOut(let what) {
        throw TestSupportError("\(what): read timed out")
    }
}

/// What `srvr` says after `Mode: ` (`leader`, `follower`, `observer`, `standalone`, `read-only`), or nil when
/// the server does not answer within `timeout` or does not serve (no `Mode:` line).
public func serverMode(host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(2)) -> String? {
    guard let text = try? sendFourLetterWord("srvr", host: host, port: port, timeout: timeout) else { return nil }
    return text.split(separator: "\n").first { $0.hasPrefix("Mode: ") }.map { String($0.dropFirst("Mode: ".count)) }
}

/// ``serverMode(host:port:timeout:)`` of a `host:port` address (nil for a malformed one).
public func serverMode(_ server: String, timeout: Duration = .seconds(2)) -> String? {
    let parts = server.split(separator: ":")
    guard parts.count == 2, let port = Int(parts[1]) else { return nil }
    return serverMode(host: String(parts[0]), port: port, timeout: timeout)
}

/// `mntr` at `127.0.0.1:port` as key → value (`zk_` prefixes kept; the tab-separated lines only).
public func monitorValues(port: Int, host: String = "127.0.0.1", timeout: Duration = .seconds(2)) throws -> [String: String] {
    let text = try sendFourLetterWord("mntr", host: host, port: port, timeout: timeout)
    var values: [String: String] = [:]
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: "\t", maxSplits: 1)
        if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
    }
    return values
}
