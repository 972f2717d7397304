import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ctrl-C / SIGTERM for the command-line tools (lock-demo, zk-bench). The signal handler only writes
/// the signal number to a pipe (all it may safely do); a watcher thread reads it. The first signal sets
/// ``requested``, runs the tool's `onInterrupt`, terminates the running ``ChildProcess/run(executable:arguments:timeout:warn:)``
/// child, cancels the tasks given to ``cancelOnInterrupt(_:)``, and leaves `grace` seconds for the tool to
/// clean up and exit by itself. A second signal, or the grace running out, exits at once (status 130)
/// after the last-resort cleanups (``addCleanup(_:)``).
public enum Interrupts {
    public static let interruptedStatus: Int32 = 130
    /// Set at the first signal; loops that cannot be cancelled poll it.
    public static let requested = Atomic<Bool>(false)

    /// What ``install(threadName:grace:warn:againMessage:graceMessage:onInterrupt:)`` was given.
    private struct Settings: Sendable {
        var warn: @Sendable (String) -> Void = { _ in }
    }
    private static let settings = Mutex(Settings())
    /// Written once in ``install(threadName:grace:warn:againMessage:graceMessage:onInterrupt:)`` before the
    /// handler exists, then only read (by the handler): the one value a signal handler may touch.
    nonisolated(unsafe) private static var pipeWriteFD: Int32 = -1
    private static let tasks = Mutex<[@Sendable () -> Void]>([])
    private static let cleanups = Mutex<[Int: @Sendable () -> Void]>([:])
    private static let nextCleanup = Atomic<Int>(0)

    /// Installs the SIGINT and SIGTERM handlers. Call first thing in `main`, once.
    /// - Parameters:
    ///   - grace: seconds the tool has after the first signal before the process exits anyway.
    ///   - warn: prints one line on stderr with the tool's prefix.
    ///   - againMessage: printed (with `warn`) when a second signal exits at once; nil prints nothing.
    ///   - graceMessage: printed when the grace runs out; nil prints nothing.
    ///   - onInterrupt: runs on the watcher thread at the first signal (with its number).
    /// - Returns: false if the signal pipe could not be made (a signal then kills the process as usual).
    @discardableResult
    public static func install(
        threadName: String, grace: Double, warn: @escaping @Sendable (String) -> Void,
        againMessage: String?, graceMessage: String?, onInterrupt: @escaping @Sendable (Int32) -> Void
    ) -> Bool {
        settings.withLock { $0.warn = warn }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return false }
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
                if count > 1 { hardExit(againMessage, status: interruptedStatus) }
                requested.store(true, ordering: .relaxed)
                onInterrupt(Int32(byte))
                ChildProcess.terminateCurrent()
                for cancel in tasks.withLock({ $0 }) { cancel() }
                startDeadline(seconds: grace, message: graceMessage, status: interruptedStatus)
            }
        }
        thread.name = threadName
        thread.start()
        return true
    }

    /// Cancels `task` at the first signal.
    public static func cancelOnInterrupt<Success: Sendable, Failure: Error>(_ task: Task<Success, Failure>) {
        tasks.withLock { $0.append { task.cancel() } }
    }

    /// Exits with `status` (printing `message`, if any) if the process is still alive after `seconds`.
    public static func startDeadline(seconds: Double, message: String?, status: Int32) {
        let thread = Thread {
            Thread.sleep(forTimeInterval: seconds)
            hardExit(message, status: status)
        }
        thread.start()
    }

    /// Exits now: prints `message` (if any), terminates the running child, runs the last-resort cleanups.
    public static func hardExit(_ message: String?, status: Int32) -> Never {
        if let message { settings.withLock { $0.warn }(message) }
        ChildProcess.terminateCurrent()
        for cleanup in cleanups.withLock({ Array($0.values) }) { cleanup() }
        exit(status)
    }

    /// Registers a last-resort cleanup (kill the workers a run started, remove a server's temporary
    /// directory), run by ``hardExit(_:status:)``; returns its id for ``removeCleanup(_:)`` once the
    /// tool has cleaned up normally.
    public static func addCleanup(_ cleanup: @escaping @Sendable () -> Void) -> Int {
        let id = nextCleanup.add(1, ordering: .relaxed).newValue
        cleanups.withLock { $0[id] = cleanup }
        return id
    }

    public static func removeCleanup(_ id: Int) { _ = cleanups.withLock { $0.removeValue(forKey: id) } }
}
