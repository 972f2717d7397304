import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ctrl-C / SIGTERM and the overall time limit. A signal handler writes the signal number to a
/// pipe (all it may safely do); a watcher thread reads it, cancels the benchmark task (so it cleans
/// up its znodes and reports "interrupted") and stops a running Java harness. A second signal, or no
/// exit within a grace period, exits at once. Exit status 130 on interrupt, 1 when the time limit is hit.
enum Interrupts {
    private static let task = Mutex<Task<Int32, Never>?>(nil)
    static let interruptedStatus: Int32 = 130
    /// Written once in ``install()`` before the handler exists, then only read (by the handler).
    nonisolated(unsafe) private static var pipeWriteFD: Int32 = -1

    /// Call first thing in `main`.
    static func install() {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            Output.warn("cannot create the signal pipe: Ctrl-C will exit without cleanup")
            return
        }
        let readFD = fds[0]
        pipeWriteFD = fds[1]
        let handler: @convention(c) (Int32) -> Void = { signal in
            var byte = UInt8(truncatingIfNeeded: signal)
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
                if count > 1 { hardExit("interrupted again: exiting without cleanup", status: interruptedStatus) }
                Output.warn("interrupted (signal \(byte)): stopping and cleaning up…")
                ChildProcess.terminateCurrent()
                task.withLock { $0 }?.cancel()
                startDeadline(seconds: 15, message: "cleanup took too long: exiting", status: interruptedStatus)
            }
        }
        thread.name = "zk-bench-signals"
        thread.start()
    }

    /// The task to cancel on a signal.
    static func watch(_ running: Task<Int32, Never>) { task.withLock { $0 = running } }

    /// Exits with `status` if the process is still alive after `seconds`.
    static func startDeadline(seconds: Double, message: String, status: Int32) {
        let thread = Thread {
            Thread.sleep(forTimeInterval: seconds)
            ChildProcess.terminateCurrent()
            hardExit(message, status: status)
        }
        thread.start()
    }

    static func hardExit(_ message: String, status: Int32) -> Never {
        Output.warn(message)
        for cleanup in cleanups.withLock({ Array($0.values) }) { cleanup() }
        exit(status)
    }

    /// Last-resort cleanups (servers a mode started, their temporary directories), run by
    /// ``hardExit(_:status:)``; a mode removes its own once it has cleaned up normally.
    private static let cleanups = Mutex<[Int: @Sendable () -> Void]>([:])
    private static let nextCleanup = Atomic<Int>(0)

    static func addCleanup(_ cleanup: @escaping @Sendable () -> Void) -> Int {
        let id = nextCleanup.add(1, ordering: .relaxed).newValue
        cleanups.withLock { $0[id] = cleanup }
        return id
    }

    static func removeCleanup(_ id: Int) { _ = cleanups.withLock { $0.removeValue(forKey: id) } }
}
