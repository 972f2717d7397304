import Foundation
import ToolSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One worker process: this same executable re-run with `--worker`, a ``ChildProcess`` with a stdin
/// for commands. Its stdout lines are parsed as ``WorkerMessage``s and handed to `onMessage`.
struct WorkerProcess: Sendable {
    let index: Int
    private let child: ChildProcess

    init(index: Int, executable: URL, arguments: [String]) {
        self.index = index
        child = ChildProcess(executable: executable, arguments: arguments, standardInput: true)
    }

    /// Starts the process and its reader thread; `onExit` runs once stdout has closed.
    func start(onMessage: @escaping @Sendable (Int, WorkerMessage?, Substring) -> Void,
               onExit: @escaping @Sendable (Int) -> Void) throws {
        let index = index
        try child.start(readerName: "lock-demo-worker-\(index)",
                        onLine: { line in onMessage(index, WorkerMessage(line: line[...]), line[...]) },
                        onEnd: { onExit(index) })
    }

    /// Sends a command line (`go`, `stall`, `stop`); a dead worker's broken pipe is ignored.
    func send(_ command: String) { child.send(command) }

    func kill(_ signal: Int32 = SIGKILL) { child.signal(signal) }

    /// Reaps the process (after it exited or was killed).
    func waitUntilExit() { child.waitUntilExit() }

    var isRunning: Bool { child.isRunning }
}
