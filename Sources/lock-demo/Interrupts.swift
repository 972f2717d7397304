import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ctrl-C / SIGTERM: the handler only writes to a pipe; a thread sets ``requested`` (the demo's loop
/// polls it and cleans up: workers killed, server stopped) and runs the last-resort cleanup if a
/// second signal comes or cleanup takes too long.
enum Interrupts {
    static let requested = Atomic<Bool>(false)
    nonisolated(unsafe) private static var pipeWriteFD: Int32 = -1
    private static let lastResort = Mutex<(@Sendable () -> Void)?>(nil)

    static func install() {
        signal(SIGPIPE, SIG_IGN)  // a worker that died must not take the parent down with a write
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        let readFD = fds[0]
        pipeWriteFD = fds[1]
        let handler: @convention(c) (Int32) -> Void = { _ in
            var byte: UInt8 = 1
            _ = write(Interrupts.pipeWriteFD, &byte, 1)
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        let thread = Thread {
            var byte: UInt8 = 0
            var count = 0
            while true {
                let n = read(readFD, &byte, 1)
                if n < 0 && errno == EINTR { continue }
                guard n == 1 else { return }
                count += 1
                requested.store(true, ordering: .relaxed)
                if count > 1 { hardExit() }
                FileHandle.standardError.write(Data("\nlock-demo: interrupted: stopping workers and the server…\n".utf8))
                Thread.detachNewThread {
                    Thread.sleep(forTimeInterval: 8)
                    hardExit()
                }
            }
        }
        thread.name = "lock-demo-signals"
        thread.start()
    }

    /// What to do if a normal cleanup cannot happen (kill workers, remove the temp directory).
    static func setLastResort(_ cleanup: (@Sendable () -> Void)?) { lastResort.withLock { $0 = cleanup } }

    private static func hardExit() -> Never {
        lastResort.withLock { $0 }?()
        exit(130)
    }
}
