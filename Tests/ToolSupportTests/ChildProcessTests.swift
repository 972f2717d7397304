import Foundation
import Synchronization
import Testing
import ToolSupport
import ZooKeeperTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The tools' child processes: lock-demo's workers (stdin commands, stdout lines) and zk-bench's
/// run-to-completion harness runs. Every wait is bounded by the child's end or a timeout.
@Suite("ToolSupport's ChildProcess", .timeLimit(.minutes(1)))
struct ChildProcessTests {
    @Test("run returns stdout and the exit status")
    func runCollectsOutput() async throws {
        let (output, status) = try await ChildProcess.run(
            executable: "/bin/sh", arguments: ["-c", "printf 'one\\ntwo'; exit 3"], timeout: 10, warn: { _ in })
        #expect(output == "one\ntwo")
        #expect(status == 3)
    }

    @Test("a child that outlives its timeout is terminated, said so, and reported as killed")
    func runTimesOut() async throws {
        let warnings = Mutex<[String]>([])
        let start = ContinuousClock.now
        let error = await #expect(throws: ChildProcess.Killed.self) {
            _ = try await ChildProcess.run(executable: "/bin/sh", arguments: ["-c", "exec sleep 30"], timeout: 0.5,
                                           warn: { message in warnings.withLock { $0.append(message) } })
        }
        #expect(error?.signal == SIGTERM)
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(warnings.withLock { $0 } == ["/bin/sh ran longer than 0 s: terminating it"])
    }

    @Test("a started child reads commands on stdin; its stdout arrives line by line, then the end")
    func linesAndCommands() async throws {
        let child = ChildProcess(
            executable: URL(fileURLWithPath: "/bin/sh"),
            arguments: ["-c", "read a; echo \"got $a\"; read b; printf 'got %s\\npartial' \"$b\""], standardInput: true)
        let lines = Mutex<[String]>([])
        let (ended, endedContinuation) = AsyncStream.makeStream(of: Void.self)
        try child.start(readerName: "test-child", onLine: { line in lines.withLock { $0.append(line) } },
                        onEnd: { endedContinuation.finish() })
        #expect(child.pid > 0)
        child.send("x")
        child.send("y")
        try await withTimeout(.seconds(10)) { for await _ in ended {} }
        child.waitUntilExit()
        #expect(!child.isRunning)
        // A last line without its newline is not a line: lock-demo's workers end every message with one.
        #expect(lines.withLock { $0 } == ["got x", "got y"])
    }

    @Test("signal reaches the started child")
    func signalKills() async throws {
        let child = ChildProcess(executable: URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", "exec sleep 30"])
        let (ended, endedContinuation) = AsyncStream.makeStream(of: Void.self)
        try child.start(readerName: "test-child", onOutput: { _ in }, onEnd: { endedContinuation.finish() })
        child.signal(SIGKILL)
        try await withTimeout(.seconds(10)) { for await _ in ended {} }
        child.waitUntilExit()
        #expect(!child.isRunning)
    }
}
