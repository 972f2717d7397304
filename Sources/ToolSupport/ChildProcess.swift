import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process of a command-line tool: its stdout read on a thread of its own (never blocking the
/// cooperative pool), optionally a stdin pipe for commands, stderr passed through. lock-demo's workers
/// use it directly; ``run(executable:arguments:timeout:warn:)`` is the run-to-completion form zk-bench's
/// Java harness uses.
public final class ChildProcess: Sendable {
    private let process: Process
    private let input: Pipe?
    private let output = Pipe()

    /// - Parameter standardInput: give the child a stdin pipe for ``send(_:)`` (else it inherits ours).
    public init(executable: URL, arguments: [String], standardInput: Bool = false) {
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        input = standardInput ? Pipe() : nil
        if let input { process.standardInput = input }
        process.standardOutput = output
        process.standardError = FileHandle.standardError
    }

    /// The child's pid once started (0 before).
    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Starts the child and a reader thread named `readerName` that hands each chunk of its stdout to
    /// `onOutput`, then calls `onEnd` once stdout has closed (the child exited, or closed it).
    public func start(
        readerName: String, onOutput: @escaping @Sendable (Data) -> Void, onEnd: @escaping @Sendable () -> Void
    ) throws {
        try Self.withDefaultSignalMask { try process.run() }
        let handle = output.fileHandleForReading
        let thread = Thread {
            while true {
                let chunk = handle.availableData  // blocks; empty at EOF
                if chunk.isEmpty { break }
                onOutput(chunk)
            }
            onEnd()
        }
        thread.name = readerName
        thread.start()
    }

    /// ``start(readerName:onOutput:onEnd:)`` with stdout cut into lines (without their newline).
    public func start(
        readerName: String, onLine: @escaping @Sendable (String) -> Void, onEnd: @escaping @Sendable () -> Void
    ) throws {
        let pending = Mutex<[UInt8]>([])
        try start(readerName: readerName, onOutput: { chunk in
            // Only the reader thread calls this; the mutex makes the buffer shareable with it.
            let lines = pending.withLock { buffer -> [String] in
                buffer.append(contentsOf: chunk)
                var lines: [String] = []
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
                    buffer.removeSubrange(...newline)
                }
                return lines
            }
            for line in lines { onLine(line) }
        }, onEnd: onEnd)
    }

    /// Writes `line` and a newline to the child's stdin; a dead child's broken pipe is ignored (the
    /// tool ignores SIGPIPE).
    public func send(_ line: String) {
        guard let input else { return }
        let fd = input.fileHandleForWriting.fileDescriptor
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Sends `signal` to the child, if it was started.
    public func signal(_ signal: Int32) {
        let pid = pid
        if pid > 0 { _ = kill(pid, signal) }
    }

    /// Reaps the child (after it exited or was killed).
    public func waitUntilExit() { process.waitUntilExit() }

    // MARK: Run to completion

    private static let current = Mutex<Process?>(nil)

    /// Runs `executable` to completion on a thread of its own and returns its stdout and exit status;
    /// stderr passes through. Terminated (SIGTERM) if it runs longer than `timeout` seconds (saying so
    /// with `warn`) or at Ctrl-C (``Interrupts``). A child killed by a signal is an error.
    public static func run(
        executable: String, arguments: [String], timeout: Double, warn: @escaping @Sendable (String) -> Void
    ) async throws -> (output: String, status: Int32) {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try runBlocking(executable, arguments, timeout: timeout, warn: warn) })
            }
            thread.start()
        }
    }

    /// A child ended by a signal.
    public struct Killed: Error, CustomStringConvertible {
        public let executable: String
        public let signal: Int32
        public var description: String { "\(executable) was killed by signal \(signal)" }
    }

    private static func runBlocking(
        _ executable: String, _ arguments: [String], timeout: Double, warn: @escaping @Sendable (String) -> Void
    ) throws -> (output: String, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        try withDefaultSignalMask { try process.run() }
        current.withLock { $0 = process }
        defer { current.withLock { $0 = nil } }
        let timer = Thread {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
            if process.isRunning {
                warn("\(executable) ran longer than \(Int(timeout)) s: terminating it")
                process.terminate()
            }
        }
        timer.start()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let status = process.terminationStatus
        if process.terminationReason == .uncaughtSignal { throw Killed(executable: executable, signal: status) }
        return (String(decoding: data, as: UTF8.self), status)
    }

    /// Runs `body` (a spawn) with no signal blocked on this thread. Foundation's Process hands the
    /// spawning thread's signal mask to the child, and the threads of the cooperative pool (and those
    /// they start) block most signals: a child spawned from one would never see the SIGTERM of a
    /// timeout or a Ctrl-C. The mask is restored at once; a signal delivered to this thread meanwhile
    /// only runs the handler (``Interrupts`` writes to its pipe).
    private static func withDefaultSignalMask<T>(_ body: () throws -> T) rethrows -> T {
        var none = sigset_t()
        sigemptyset(&none)
        var previous = sigset_t()
        pthread_sigmask(SIG_SETMASK, &none, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try body()
    }

    /// Terminates the child ``run(executable:arguments:timeout:warn:)`` is running, if any.
    public static func terminateCurrent() {
        let process = current.withLock { $0 }
        if let process, process.isRunning { process.terminate() }
    }
}
