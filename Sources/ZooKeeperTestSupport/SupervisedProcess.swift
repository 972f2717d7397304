import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process that cannot outlive the test process: spawned in a process group of its own
/// (so a wrapper script's children go with it), watched by the same lifeline reaper as
/// ``ApacheZooKeeper`` (a `/bin/sh` blocked reading a pipe only this process can write; when this
/// process dies, however it dies, the reaper SIGKILLs the group). Signals go to the exact PID's
/// group; nothing is ever killed by name.
public final class SupervisedProcess: Sendable {
    public let pid: pid_t
    /// Where stdout and stderr go (appended).
    public let outputFile: String
    private struct State {
        var running = true
        var status: Int32?
        var reaperPid: pid_t?
        var lifeline: Int32 = -1
    }
    private let state: Mutex<State>

    /// Starts `path` with `arguments`; stdin is /dev/null, stdout+stderr are appended to `outputFile`.
    public init(path: String, arguments: [String], outputFile: String) throws {
        let pid = try ChildProcess.spawn(
            path: path, arguments: arguments, input: .devNull, outputFile: outputFile, newProcessGroup: true)
        let ends: (read: Int32, write: Int32)
        do {
            ends = try ChildProcess.makeLifelinePipe()
        } catch {
            kill(-pid, SIGKILL)
            _ = ChildProcess.waitForExitBlocking(pid, within: .seconds(10))
            throw error
        }
        let reaper: pid_t
        do {
            reaper = try ChildProcess.spawn(
                path: "/bin/sh", arguments: ["-c", Self.reaperScript, "shepherd-reaper", String(pid)],
                input: .descriptor(ends.read), outputFile: nil)
        } catch {
            close(ends.read)
            close(ends.write)
            kill(-pid, SIGKILL)
            _ = ChildProcess.waitForExitBlocking(pid, within: .seconds(10))
            throw error
        }
        close(ends.read)
        self.pid = pid
        self.outputFile = outputFile
        state = Mutex(State(reaperPid: reaper, lifeline: ends.write))
    }

    deinit { _ = terminate(signal: SIGKILL, grace: .zero) }

    /// `read` blocks until the test process dies (its write end closes); then the group is killed.
    static let reaperScript = """
        read -r _ignored
        kill -KILL -- "-$1" 2>/dev/null
        kill -KILL "$1" 2>/dev/null
        """

    /// The wait status once the process has exited (and been reaped), else nil.
    public var exitStatus: Int32? {
        state.withLock { state in
            if let status = state.status { return status }
            guard let status = ChildProcess.tryReap(pid) else { return nil }
            state.status = status
            state.running = false
            return status
        }
    }

    /// Sends `signal` to the process (and, for SIGKILL, its whole group) unless it has been reaped.
    public func send(_ signal: Int32) {
        state.withLock { state in
            guard state.status == nil else { return }
            if signal == SIGKILL { kill(-pid, SIGKILL) }
            kill(pid, signal)
        }
    }

    /// Waits (bounded) for the exit; returns the wait status, or nil if it still runs.
    public func waitForExit(within timeout: Duration) async -> Int32? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if let status = exitStatus {
                dismissReaper()
                return status
            }
            if clock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// `signal`, then SIGKILL after `grace`; waits for the exit (bounded) and dismisses the reaper.
    @discardableResult
    public func terminate(signal: Int32 = SIGTERM, grace: Duration = .seconds(10)) -> Int32? {
        send(signal)
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while clock.now < deadline {
            if let status = exitStatus { dismissReaper(); return status }
            usleep(5_000)
        }
        send(SIGKILL)
        kill(-pid, SIGKILL)  // stragglers of the group, even if the leader is gone
        _ = ChildProcess.waitForExitBlocking(pid, within: .seconds(10))
        let status = exitStatus
        dismissReaper()
        return status
    }

    /// Everything the process has written so far.
    public var output: String {
        (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
    }

    private func dismissReaper() {
        let (reaper, lifeline) = state.withLock { state in
            defer { state.reaperPid = nil; state.lifeline = -1 }
            return (state.reaperPid, state.lifeline)
        }
        if let reaper {
            kill(reaper, SIGKILL)
            _ = ChildProcess.waitForExitBlocking(reaper, within: .seconds(5))
        }
        if lifeline >= 0 { close(lifeline) }
    }
}

/// What a finished tool run produced.
public struct ToolRun: Sendable, CustomStringConvertible {
    /// The raw wait status (see ``exitCode``).
    public let status: Int32
    public let output: String
    /// The exit code, or nil if a signal ended it.
    public var exitCode: Int32? { status & 0x7F == 0 ? (status >> 8) & 0xFF : nil }
    public var description: String { "\(ChildProcess.describe(status: status)); output:\n\(output)" }
}

/// Runs a command line tool to completion (stdout and stderr together), SIGKILLing its process
/// group if it outlives `timeout`. Environment variables can be set with `/usr/bin/env VAR=…`.
public func runTool(_ path: String, _ arguments: [String], timeout: Duration) async throws -> ToolRun {
    let outputFile = NSTemporaryDirectory() + "shepherd-tool-\(UUID().uuidString).out"
    defer { try? FileManager.default.removeItem(atPath: outputFile) }
    let process = try SupervisedProcess(path: path, arguments: arguments, outputFile: outputFile)
    guard let status = await process.waitForExit(within: timeout) else {
        process.terminate(signal: SIGKILL, grace: .zero)
        throw TestSupportError("\(path) \(arguments.joined(separator: " ")) did not finish within \(timeout); output:\n\(process.output)")
    }
    return ToolRun(status: status, output: process.output)
}
