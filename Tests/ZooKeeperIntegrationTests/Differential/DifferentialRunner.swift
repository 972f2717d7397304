import Foundation
import ZooKeeperClient
import ZooKeeperTestSupport

/// The first difference of a run: where, on which operation, and what each server said.
struct DiffDivergence: Sendable, CustomStringConvertible {
    var seed: UInt64
    var step: Int
    var op: String
    var what: String
    var reference: String
    var candidate: String
    var history: [String]

    var description: String {
        """
        differential run diverged: seed \(seed), step \(step) [replay: SHEPHERD_DIFF_SEEDS=\(seed) SHEPHERD_DIFF_STEPS=\(step + 1)]
          operation: \(op)
          \(what)
          apache:    \(reference)
          shepherd:  \(candidate)
          last steps (apache's answers):
        \(history.map { "    " + $0 }.joined(separator: "\n"))
        """
    }
}

/// What a finished run did.
struct DiffSummary: Sendable {
    var steps = 0
    var errors: [String: Int] = [:]
    var divergence: DiffDivergence?
}

/// Runs one seeded sequence against two servers, step by step, and stops at the first difference.
struct DifferentialRunner {
    static let sessionCount = 3

    let referenceConnect: String
    let candidateConnect: String

    func run(seed: UInt64, steps: Int) async throws -> DiffSummary {
        let chroot = "/diff-\(seed)-\(String(UInt64.random(in: 0 ... .max), radix: 16))"
        try await ensurePath(chroot, connectString: referenceConnect)
        try await ensurePath(chroot, connectString: candidateConnect)
        let reference = DiffSide(name: "apache", configuration: try ZooKeeperConfiguration(connectionString: referenceConnect + chroot),
                                 sessionCount: Self.sessionCount)
        let candidate = DiffSide(name: "shepherd", configuration: try ZooKeeperConfiguration(connectionString: candidateConnect + chroot),
                                 sessionCount: Self.sessionCount)
        do {
            try await reference.open()
            try await candidate.open()
            let summary = try await loop(seed: seed, steps: steps, reference: reference, candidate: candidate)
            await reference.close()
            await candidate.close()
            return summary
        } catch {
            await reference.close()
            await candidate.close()
            throw error
        }
    }

    /// One step on one side, bounded: a step that hangs is an answer ("timeout") to compare.
    private static func bounded(_ side: DiffSide, _ op: DiffOp, _ step: Int) async -> DiffOutcome {
        do {
            return try await withTimeout(.seconds(10)) { await side.run(op, step: step) }
        } catch {
            return DiffOutcome(text: "no answer: \(error)")
        }
    }

    private func loop(seed: UInt64, steps: Int, reference: DiffSide, candidate: DiffSide) async throws -> DiffSummary {
        var generator = DiffGenerator(seed: seed, sessionCount: Self.sessionCount)
        var summary = DiffSummary()
        var history: [String] = []
        func diverged(_ step: Int, _ op: DiffOp, _ what: String, _ a: String, _ b: String) -> DiffSummary {
            var summary = summary
            summary.divergence = DiffDivergence(seed: seed, step: step, op: op.description, what: what,
                                                reference: a, candidate: b, history: history)
            return summary
        }
        for step in 0..<steps {
            let op = generator.next()
            async let a = Self.bounded(reference, op, step)
            async let b = Self.bounded(candidate, op, step)
            let (ra, rb) = await (a, b)
            summary.steps = step + 1
            if let code = ra.errorCode { summary.errors["\(code)", default: 0] += 1 }
            if ra.text != rb.text {
                return diverged(step, op, "different answers", ra.text, rb.text)
            }
            generator.learn(ra.feedback)
            history.append("\(step): \(op) -> \(ra.text)")
            if history.count > 12 { history.removeFirst() }

            if op.mayNotifyOthers {
                async let ba: Void = withTimeout(.seconds(15)) { try await reference.barrier(except: op.slot) }
                async let bb: Void = withTimeout(.seconds(15)) { try await candidate.barrier(except: op.slot) }
                _ = try await (ba, bb)
            }
            // Persistent watches are consumed by tasks: wait (bounded) until both sides have taken
            // in the same number of events; if they never do, the comparison below shows it.
            do {
                try await eventually(within: .seconds(2), pollEvery: .milliseconds(1)) {
                    await reference.persistentCounts() == candidate.persistentCounts()
                }
            } catch is TimeoutError {}
            let wa = await reference.watchState(), wb = await candidate.watchState()
            if wa != wb {
                let index = zip(wa, wb).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(wa.count, wb.count)
                return diverged(step, op, "different watch events (watch #\(index) of \(wa.count)/\(wb.count))",
                                index < wa.count ? wa[index] : "(none)", index < wb.count ? wb[index] : "(none)")
            }
        }
        return summary
    }
}

/// The seeds and steps of a run, from the environment (`SHEPHERD_DIFF_SEEDS`: `7`, `1,5,9` or `1...50`;
/// `SHEPHERD_DIFF_STEPS`: steps per seed).
enum DiffParameters {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }
    static var soakRequested: Bool { environment["SHEPHERD_DIFF_SEEDS"] != nil || environment["SHEPHERD_DIFF_STEPS"] != nil }

    static func seeds(default fallback: [UInt64]) -> [UInt64] {
        guard let text = environment["SHEPHERD_DIFF_SEEDS"], !text.isEmpty else { return fallback }
        if let range = text.range(of: "...") {
            let low = UInt64(text[..<range.lowerBound]) ?? 1, high = UInt64(text[range.upperBound...]) ?? low
            return Array(low...max(low, high))
        }
        return text.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
    }

    static func steps(default fallback: Int) -> Int {
        environment["SHEPHERD_DIFF_STEPS"].flatMap(Int.init) ?? fallback
    }
}
