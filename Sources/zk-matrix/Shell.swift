import Foundation
import ZooKeeperTestSupport

struct MatrixError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a command (found on PATH) to completion with TestSupport's supervised `runTool` (its own
/// process group, killed if it outlives `timeout`); returns stdout+stderr, trimmed. Throws when it
/// exits non-zero. (Foundation's `Process` is not used: its termination handler never fired here
/// once the Apache launcher had spawned and reaped children of its own.)
func runCommand(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(120)) async throws -> String {
    let assignments = environment.map { "\($0.key)=\($0.value)" }
    let run = try await runTool("/usr/bin/env", assignments + arguments, timeout: timeout)
    guard run.exitCode == 0 else {
        throw MatrixError("\(arguments.joined(separator: " ")): \(run)")
    }
    return run.output.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// The last line of a command's output (scripts log to stderr first, then print their answer).
func lastLine(_ output: String) -> String {
    output.split(separator: "\n").last.map(String.init) ?? ""
}
