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
