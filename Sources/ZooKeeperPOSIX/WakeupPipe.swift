#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A self-pipe that wakes a thread blocked in `poll`. Writers never block: a full pipe already means "awake".
package final class WakeupPipe: Sendable {
    package let readFD: Int32
    package let writeFD: Int32

    package init() throws(SocketError) {
        var fds: [Int32] = [0, 0]
        // pipe2 is a GNU extension Swift's Glibc module does not export; set the flags by hand.
        let result = pipe(&fds)
        if result == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
        }
        guard result == 0 else { throw SocketError.lastError("pipe") }
        readFD = fds[0]
        writeFD = fds[1]
    }

    /// Wakes the polling thread.
    package func wake() {
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }

    /// Empties the pipe after a wake-up: one read, unless it filled the buffer (a second read only to be
    /// told EAGAIN was half of a busy member's read calls).
    package func drain() {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { buffer in
            while read(readFD, buffer.baseAddress, buffer.count) == buffer.count {}
        }
    }

    deinit {
        close(readFD)
        close(writeFD)
    }
}
