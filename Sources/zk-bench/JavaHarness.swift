import Foundation
import Synchronization

/// The reference: Apache ZooKeeper's Java client (and Curator), run through an external harness script
/// named by `SHEPHERD_BENCH_JAVA` that prints one JSON line per run on stdout. The repository does not
/// carry one yet, so the Java side of `compare`, `mutex` and `rwlock` needs that variable (or `--no-java`).
struct JavaHarness {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let script: String

    static let environmentKey = "SHEPHERD_BENCH_JAVA"

    static func locate() throws -> JavaHarness {
        guard let script = ProcessInfo.processInfo.environment[environmentKey], !script.isEmpty else {
            throw Failure(description: """
                no Java reference harness: set \(environmentKey) to an executable harness script, \
                or pass --no-java to measure Shepherd alone.
                """)
        }
        guard FileManager.default.isExecutableFile(atPath: script) else {
            throw Failure(description: "the Java reference harness \(script) (\(environmentKey)) is missing or not executable")
        }
        return JavaHarness(script: script)
    }

    /// Runs one mode and returns its `results` object. Killed after `timeout` seconds.
    func run(_ arguments: [String], timeout: Double) async throws -> [String: Any] {
        let output = try await ChildProcess.run(executable: script, arguments: arguments, timeout: timeout)
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else {
            throw Failure(description: "the Java harness printed no JSON result (\(script) \(arguments.joined(separator: " ")))")
        }
        if let error = object["error"] { throw Failure(description: "the Java harness failed: \(error)") }
        guard let results = object["results"] as? [String: Any] else {
            throw Failure(description: "the Java harness's JSON has no results: \(line)")
        }
        if (object["ok"] as? Bool) == false { Output.warn("the Java harness reported errors: \(line)") }
        return results
    }

    /// `results.<path…>` as a number, if present.
    static func number(_ object: [String: Any], _ path: String...) -> Double? {
        var current: Any? = object
        for key in path { current = (current as? [String: Any])?[key] }
        return (current as? NSNumber)?.doubleValue
    }
}

/// Runs a child process on its own thread (never blocking the cooperative pool), collecting stdout;
/// stderr passes through. The running child is terminated on Ctrl-C (see ``Interrupts``) or timeout.
enum ChildProcess {
    static let current = Mutex<Process?>(nil)

    static func run(executable: String, arguments: [String], timeout: Double) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try runBlocking(executable, arguments, timeout: timeout) })
            }
            thread.start()
        }
    }

    private static func runBlocking(_ executable: String, _ arguments: [String], timeout: Double) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        try process.run()
        current.withLock { $0 = process }
        defer { current.withLock { $0 = nil } }
        let timer = Thread {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
            if process.isRunning {
                Output.warn("\(executable) ran longer than \(Int(timeout)) s: terminating it")
                process.terminate()
            }
        }
        timer.start()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let status = process.terminationStatus
        if process.terminationReason == .uncaughtSignal {
            throw JavaHarness.Failure(description: "\(executable) was killed by signal \(status)")
        }
        if status != 0 && status != 3 {  // 3: the harness ran but counted op errors (reported in its JSON)
            throw JavaHarness.Failure(description: "\(executable) exited with status \(status)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func terminateCurrent() {
        let process = current.withLock { $0 }
        if let process, process.isRunning { process.terminate() }
    }
}
