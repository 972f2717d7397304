import Synchronization
import ZooKeeperClient
import ZooKeeperRecipes
import ZooKeeperTestSupport

/// DistributedMutex: `workers` clients × `rounds` acquisitions. An in-process occupancy record (independent
/// of ZooKeeper) catches two holders inside at once while both leases say `.held`; a fenced counter rejects
/// stale tokens. Every worker must finish (waiters eventually acquire).
///
/// Under ``Fault/partition`` the check is strict: the victim is a holder cut off *inside* its body (which
/// runs until the recipe cancels it), and ANY overlap of two bodies is a violation — the partitioned
/// holder must have given up before anyone else can be granted the lock. No expiry exemption applies.
struct LockSuite {
    static let invariant = """
        never two holders inside at once while both leases are held (an in-process occupancy record, \
        independent of ZooKeeper); under partition ANY overlap of two bodies fails (the cut-off holder must \
        give up before anyone else is granted the lock); an expired holder may overlap its successor until it \
        hears of the expiry (counted; its older fencing token is refused); the fenced counter reaches 24: \
        every waiter eventually acquires
        """
    let workers = 3
    let rounds = 8

    final class Occupancy: Sendable {
        struct State {
            var inside: [Int: LockLease] = [:]
            var violations: [String] = []
            var maxToken: Int64 = .min
            var counter = 0
            var staleRejected = 0
            var holder: Int?
            /// The session the fault expired: its holder may overlap the next one until it hears so.
            var expiredSession: Int64?
            var expiredOverlaps = 0
            /// When the partition fault began (for the violation messages).
            var partitionedAt: ContinuousClock.Instant?
        }
        let state = Mutex(State())
        /// Any overlap counts, whatever the leases say (the partition fault).
        let strict: Bool

        init(strict: Bool) { self.strict = strict }

        func enter(_ worker: Int, _ lease: LockLease) {
            state.withLock { state in
                if strict {
                    let since = state.partitionedAt.map { " (\(Outcome.seconds(.now - $0)) after the partition began)" } ?? ""
                    for other in state.inside.keys {
                        state.violations.append("worker \(worker) entered while worker \(other)'s body still ran\(since)")
                    }
                }
                for (other, otherLease) in state.inside where !strict && otherLease.status == .held && lease.status == .held {
                    if otherLease.sessionID == state.expiredSession {
                        // ZooKeeper's caveat: a holder whose session was expired behind its back (taken over
                        // and closed from another server) learns it only at its next exchange; its fencing
                        // token is older, so the fenced counter refuses it once the new holder has written.
                        state.expiredOverlaps += 1
                    } else {
                        state.violations.append("workers \(other) and \(worker) both held the lock")
                    }
                }
                state.inside[worker] = lease
                state.holder = worker
            }
        }
        func commit(_ token: Int64) {
            state.withLock { state in
                if token < state.maxToken { state.staleRejected += 1; return }
                state.maxToken = token
                state.counter += 1
            }
        }
        func exit(_ worker: Int) { state.withLock { _ = $0.inside.removeValue(forKey: worker) } }
    }

    func run(_ context: ScenarioContext) async throws {
        try await context.prepare()
        let lockPath = try context.root.appending("lock")
        let partition = context.fault == .partition
        let occupancy = Occupancy(strict: partition)
        let done = Shared(0)
        // Under partition: the worker that enters next after `armed` becomes the victim, inside its body.
        let victimGate = Shared<(armed: Bool, victim: Int?)>((false, nil))
        // Long enough for the recipe to cancel the body (session timeout) and for the partition to heal;
        // a body still running then is ended anyway so the scenario stays bounded (the overlap is recorded).
        let victimBodyBound = context.sessionTimeout * 4
        let slots = try await (0..<workers).asyncMap { _ in try await ClientSlot(context) }
        let rounds = self.rounds
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, slot) in slots.enumerated() {
                group.addTask {
                    var finished = 0
                    while finished < rounds {
                        do {
                            let mutex = DistributedMutex(client: slot.client, path: lockPath)
                            try await mutex.withLock(timeout: .seconds(30)) { lease in
                                occupancy.enter(index, lease)
                                defer { occupancy.exit(index) }
                                let isVictim = victimGate.withLock { gate -> Bool in
                                    guard gate.armed, gate.victim == nil else { return false }
                                    gate.victim = index
                                    return true
                                }
                                if isVictim {
                                    try await HoldDriver.victimBody(context, bound: victimBodyBound) {
                                        occupancy.state.withLock { $0.partitionedAt }
                                    }
                                } else {
                                    try await Task.sleep(for: .milliseconds(20))
                                }
                                occupancy.commit(lease.fencingToken)
                            }
                            finished += 1
                            done.withLock { $0 += 1 }
                        } catch {
                            try await slot.recover(after: error)
                        }
                    }
                }
            }
            // The fault, a third of the way in, aimed at the current holder.
            try await waitFor("a third of the acquisitions", timeout: .seconds(30)) {
                done.value >= workers * rounds / 3
            }
            let holder: Int
            if partition {
                victimGate.withLock { $0.armed = true }
                try await waitFor("a holder inside its body to partition", timeout: .seconds(30)) {
                    victimGate.value.victim != nil
                }
                holder = victimGate.value.victim ?? 0
            } else {
                holder = occupancy.state.withLock { $0.holder } ?? 0
            }
            let victim = slots[holder].client
            if context.fault == .sessionExpired {
                occupancy.state.withLock { $0.expiredSession = victim.session?.id }
            }
            if partition { occupancy.state.withLock { $0.partitionedAt = .now } }
            try await context.injectFault(victim: victim)
            try await group.waitForAll()
        }
        try await context.verifyFault()
        let state = occupancy.state.withLock { $0 }
        if !state.violations.isEmpty {
            throw MatrixError((state.violations + context.notes).joined(separator: "; "))
        }
        if state.counter < workers * rounds { throw MatrixError("fenced counter \(state.counter) < \(workers * rounds)") }
        if state.staleRejected > 0 { context.note("\(state.staleRejected) stale holder write(s) fenced") }
        if state.expiredOverlaps > 0 { context.note("expired holder overlapped its successor \(state.expiredOverlaps)x (fenced)") }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
