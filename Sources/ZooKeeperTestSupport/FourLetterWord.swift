#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sends a ZooKeeper four-letter word (`ruok`, `srvr`, `stat`, `mntr`, `cons`, `dump`, …) to
/// `host:port` and returns the whole reply (the server closes the connection after answering).
///
/// Plain blocking sockets; `timeout` bounds connect, write and read together.
/// Notable behaviours: the server must whitelist the word (`4lw.commands.whitelist`); a word that
/// is not whitelisted gets a "… is not executed because it is not in the whitelist." reply, and
/// an unknown word gets an empty reply (the server just closes).
public func sendFourLetterWord(_ word: String, host: String, port: Int, timeout: Duration) throws -> String {
    let deadline = SocketHelpers.nowNanos() + SocketHelpers.nanos(timeout)
    let fd = try SocketHelpers.connect(host: host, port: port, deadline: deadline)
    defer { close(fd) }
    try SocketHelpers.writeAll(fd, Array(word.utf8))
    let reply = try SocketHelpers.readToEOF(fd, deadline: deadline)
    return String(decoding: reply, as: UTF8.self)
}
