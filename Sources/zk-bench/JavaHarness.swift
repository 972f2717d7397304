import Foundation
import ToolSupport
import ZooKeeperTestSupport

/// The reference: Apache ZooKeeper's Java client (and Curator), run through the repository's Java load
/// harness (TestSupport's ``JavaLoadHarness``: compiled with javac against Debian's jars on first use,
/// then cached), which prints one JSON line per run on stdout. `SHEPHERD_BENCH_JAVA` may name another.
struct JavaHarness {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let harness: JavaLoadHarness

    /// Compiles the harness if needed. `instead`: what the user can do without Java, for the error.
    static func prepare(instead: String) async throws -> JavaHarness {
        do {
            return JavaHarness(harness: try await JavaLoadHarness.prepare(
                jvmOptions: JavaLoadHarness.benchmarkJVMOptions, progress: { Output.progress($0) }))
        } catch {
            throw Failure(description: "\(error) (\(instead))")
        }
    }

    /// Runs one mode and returns its `results` object. Killed after `timeout` seconds.
    func run(_ arguments: [String], timeout: Double) async throws -> [String: Any] {
        let (output, status) = try await ChildProcess.run(
            executable: harness.executable, arguments: harness.arguments(arguments), timeout: timeout, warn: Output.warn)
        let command = "harness \(arguments.joined(separator: " "))"
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else {
            throw Failure(description: "the Java harness printed no JSON result (\(command), exit status \(status))")
        }
        if let error = object["error"] { throw Failure(description: "the Java harness failed: \(error) (\(command))") }
        // 3: the run finished but counted violations or failed requests, reported in its JSON.
        guard status == 0 || status == 3 else { throw Failure(description: "\(command) exited with status \(status)") }
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
