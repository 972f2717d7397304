import Foundation

/// One case the server got wrong.
public struct FuzzFailure: Sendable, CustomStringConvertible {
    public let seed: UInt64
    public let index: UInt64
    public let family: FuzzFamily
    public let problem: String
    public var description: String { "case \(index) (\(family.rawValue), seed \(seed)): \(problem)" }
}

/// What a fuzz run did and found.
public struct FuzzReport: Sendable, CustomStringConvertible {
    public var seed: UInt64
    public var cases = 0
    /// Connections opened: one per case, plus the checks' sessions.
    public var connections = 0
    public var casesByFamily: [FuzzFamily: Int] = [:]
    /// The first failures (at most ``FuzzRun/Options/maxFailures``) and how many there were.
    public var failures: [FuzzFailure] = []
    public var failureCount = 0
    /// A failed check between batches (ruok, a fresh session) or after the restart: the server
    /// crashed, hung or answered wrongly. The run stops at the first.
    public var serverFailure: String?
    /// The final kill -9 and restart: "zxid … nodes … survived", or nil if not done.
    public var restart: String?
    public var seconds: Double = 0

    public init(seed: UInt64) { self.seed = seed }

    public var passed: Bool { failureCount == 0 && serverFailure == nil }

    public var description: String {
        var lines = ["fuzz seed \(seed): \(cases) cases, \(connections) connections, \(failureCount) failed cases, "
            + "\(serverFailure == nil ? 0 : 1) server failures (crash, hang or wrong answer), "
            + String(format: "%.1f s (%.0f cases/s)", seconds, seconds > 0 ? Double(cases) / seconds : 0)]
        lines.append("  families: " + FuzzFamily.allCases.map { "\($0.rawValue) \(casesByFamily[$0] ?? 0)" }.joined(separator: ", "))
        if let restart { lines.append("  kill -9 and restart: \(restart)") }
        if let serverFailure { lines.append("  SERVER FAILURE: \(serverFailure)") }
        for failure in failures { lines.append("  FAILED \(failure)") }
        if failureCount > failures.count { lines.append("  … and \(failureCount - failures.count) more failed cases") }
        if !passed { lines.append("  reproduce: --seed \(seed) --first <index> --cases 1 (one case), or the batch's range") }
        return lines.joined(separator: "\n")
    }
}
