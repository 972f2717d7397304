import Foundation

/// The end-of-run report (stdout) and the exit status.
struct Report {
    let options: DemoOptions
    let connect: String
    let log: RunLog.State
    let startNanos: Int64
    let stopNanos: Int64
    let finalCounter: Int64?

    var sections: [Acquisition] { log.acquisitions + log.killedHolders }
    var checks: LockChecks { LockChecks(sections: sections, finalCounter: finalCounter) }

    var exitStatus: Int32 { checks.passed && log.failures.isEmpty && log.malformed == 0 && !sections.isEmpty ? 0 : 1 }

    func print() {
        let checks = checks
        let count = log.acquisitions.count
        let seconds = Double(stopNanos - startNanos) / 1e9
        let waits = Percentiles(log.acquisitions.map(\.waitNanos))
        let holds = Percentiles(log.acquisitions.map { $0.exitNanos - $0.enterNanos })
        let events = log.done.values.reduce(0) { $0 + $1.watchEvents }
        let reportedBy = log.done.count
        let perWorker = (0..<options.workers).map { index in log.acquisitions.filter { $0.worker == index }.count }

        var lines: [String] = []
        func add(_ label: String, _ value: String) { lines.append(label.padding(toLength: 34, withPad: " ", startingAt: 0) + value) }
        lines.append("")
        lines.append("lock-demo report — \(Self.title(options.mode))")
        add("server", connect)
        add("workers", "\(options.workers) processes, one ZooKeeper session each (session timeout \(grantedTimeout))")
        add("duration", "\(Self.format(seconds)) s")
        add("acquisitions", "\(count)  (per worker: \(perWorker.map(String.init).joined(separator: " ")))")
        add("throughput", "\(Self.format(Double(count) / max(seconds, 0.001), decimals: 0)) acquisitions/s")
        add("acquire latency", "p50 \(Self.millis(waits.value(0.5)))  p99 \(Self.millis(waits.value(0.99)))  max \(Self.millis(waits.max))")
        add("time in the lock", "p50 \(Self.millis(holds.value(0.5)))  (read next-order, write +1)")
        add("order numbers", sections.isEmpty ? "none" : "1…\(sections.map(\.orderNumber).max()!) handed out")
        add("duplicate order numbers", "\(checks.duplicates.count)\(checks.duplicates.isEmpty ? "" : "  ✗ e.g. \(checks.duplicates.prefix(5).map(String.init).joined(separator: ", "))")")
        add("gaps in the sequence", "\(checks.gaps.count)\(checks.gaps.isEmpty ? "" : "  ✗ e.g. \(checks.gaps.prefix(5).map(String.init).joined(separator: ", "))")")
        add("mutual-exclusion violations", "\(checks.overlaps.count)  (critical sections overlapping in time)\(checks.overlaps.isEmpty ? "" : "  ✗")")
        add("fencing-token regressions", "\(checks.fencingRegressions)  (later holder, smaller token)")
        if let mismatch = checks.counterMismatch { add("counter", "✗ \(mismatch)") }
        let perAcquisition = count == 0 ? 0 : Double(events) / Double(count)
        add("watch notifications", "\(events) received by \(reportedBy) workers = \(Self.format(perAcquisition, decimals: 2)) per acquisition"
            + (options.mode == .herd ? "  ← the herd effect" : options.mode == .none ? "" : "  (≈1: herd-free)"))
        if options.killHolder { killLines(add) }
        for failure in log.failures { add("worker failure", failure) }
        if log.malformed > 0 { add("malformed worker lines", "\(log.malformed)") }
        lines.append(exitStatus == 0 ? "result: PASS — every order number unique, gapless, and handed out under exclusion"
                                     : "result: FAIL")
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    /// What the server granted (it clamps to 2…20 × tickTime), or what was asked if unknown.
    private var grantedTimeout: String {
        let granted = Set(log.grantedTimeouts.values.filter { $0 > 0 })
        guard !granted.isEmpty else { return "\(Self.format(options.sessionTimeout)) s requested" }
        let text = granted.sorted().map { Self.format(Double($0) / 1000) }.joined(separator: "/") + " s"
        return granted == [Int64(options.sessionTimeout * 1000)] ? text : text + " granted, \(Self.format(options.sessionTimeout)) s requested"
    }

    private func killLines(_ add: (String, String) -> Void) {
        guard let killed = log.killedAtNanos, let victim = log.killedHolders.first else {
            add("kill-holder", "no holder was killed (the worker never stalled in the lock)")
            return
        }
        add("kill-holder", "worker \(victim.worker) SIGKILLed while holding order# \(victim.orderNumber) (token \(victim.fencingToken))")
        if let next = log.acquisitions.filter({ $0.enterNanos > killed }).min(by: { $0.enterNanos < $1.enterNanos }) {
            add("lock passed on after", "\(Self.format(Double(next.enterNanos - killed) / 1e9, decimals: 2)) s — the dead holder's session expired, its ephemeral lock node went")
            add("next holder", "worker \(next.worker) got order# \(next.orderNumber) (token \(next.fencingToken) > \(victim.fencingToken))")
        } else {
            add("lock passed on after", "not within the run (session timeout \(grantedTimeout)); try a longer --duration")
        }
    }

    static func title(_ mode: LockMode) -> String {
        switch mode {
        case .recipe: return "DistributedMutex (each waiter watches its predecessor)"
        case .herd: return "HERD mode (anti-pattern: every waiter watches the lock directory)"
        case .none: return "NO LOCK (control: an unprotected read-increment-write)"
        }
    }

    static func format(_ value: Double, decimals: Int = 1) -> String { String(format: "%.\(decimals)f", value) }
    static func millis(_ nanos: Int64) -> String { String(format: "%.2f ms", Double(nanos) / 1e6) }
}
