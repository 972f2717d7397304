import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One worker process: this same executable re-run with `--worker`. Its stdout lines are parsed on a
/// thread of their own and handed to `onMessage`; commands go to its stdin.
final class WorkerProcess: @unchecked Sendable {
    // @unchecked: `process` and the pipes are set up in init and then only used through
    // thread-safe calls (Process.processIdentifier, FileHandle writes, kill(2)).
    let index: Int
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    init(index: Int, executable: URL, arguments: [String]) {
        self.index = index
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
    }

    var pid: Int32 { process.processIdentifier }

    /// Starts the process and the reader thread; `onExit` runs once stdout has closed.
    func start(onMessage: @escaping @Sendable (Int, WorkerMessage?, Substring) -> Void,
               onExit: @escaping @Sendable (Int) -> Void) throws {
        try process.run()
        let handle = output.fileHandleForReading
        let index = index
        let thread = Thread {
            var buffer: [UInt8] = []
            while true {
                let chunk = handle.availableData  // blocks; empty at EOF
                if chunk.isEmpty { break }
                buffer.append(contentsOf: chunk)
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: buffer[..<newline], as: UTF8.self)
                    buffer.removeSubrange(...newline)
                    onMessage(index, WorkerMessage(line: line[...]), line[...])
                }
            }
            onExit(index)
        }
        thread.name = "lock-demo-worker-\(index)"
        thread.start()
    }

    /// Sends a command line (`go`, `stall`, `stop`); a dead worker's broken pipe is ignored.
    func send(_ command: String) {
        let fd = input.fileHandleForWriting.fileDescriptor
        let bytes = Array((command + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    func kill(_ signal: Int32 = SIGKILL) {
        let pid = pid
        if pid > 0 { sendSignal(signal, to: pid) }
    }

    /// Reaps the process (after it exited or was killed).
    func waitUntilExit() { process.waitUntilExit() }

    var isRunning: Bool { process.isRunning }
}

private func sendSignal(_ signal: Int32, to pid: Int32) { _ = kill(pid, signal) }
