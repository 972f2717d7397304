#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A thin wrapper over `poll(2)`; the client's I/O thread watches its socket and its wake-up pipe.
package enum Poller {
    package static let readable = Int16(POLLIN)
    package static let writable = Int16(POLLOUT)
    /// Error or hang-up conditions (always reported by the kernel).
    package static let failed = Int16(POLLERR) | Int16(POLLHUP) | Int16(POLLNVAL)

    /// Polls `fds`, waiting at most `timeout` (nil = forever). Returns the revents per entry.
    package static func poll(_ fds: inout [pollfd], timeout: Duration?) throws(SocketError) -> Int {
        let milliseconds: Int32
        if let timeout {
            let total = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
            // Round sub-millisecond waits up so a short positive deadline does not busy-loop.
            let roundedUp = total == 0 && timeout > .zero ? 1 : total
            milliseconds = Int32(clamping: max(0, roundedUp))
        } else {
            milliseconds = -1
        }
        while true {
            let result = fds.withUnsafeMutableBufferPointer { buffer in
                #if canImport(Glibc)
                Glibc.poll(buffer.baseAddress, nfds_t(buffer.count), milliseconds)
                #else
                Darwin.poll(buffer.baseAddress, nfds_t(buffer.count), milliseconds)
                #endif
            }
            if result >= 0 { return Int(result) }
            if errno == EINTR { continue }
            throw SocketError.lastError("poll")
        }
    }

    /// Waits until `fd` reports `events` (or an error), at most `timeout`. Returns false on timeout.
    package static func waitFor(fd: Int32, events: Int16, timeout: Duration) throws(SocketError) -> Bool {
        var fds = [pollfd(fd: fd, events: events, revents: 0)]
        return try poll(&fds, timeout: timeout) > 0
    }
}
