import Synchronization
import ZooKeeperRecipes

/// Who is inside a lock-like recipe's body right now, recorded in process (independent of ZooKeeper):
/// what the rwlock, semaphore and multi-lock suites check their exclusion invariants against.
///
/// A claim names the resources its body uses and how: exclusively (a writer, a mutex) or shared (a reader,
/// a semaphore lease, with at most `capacity[resource]` shared holders at once). Entering a body that
/// conflicts with the bodies inside is a violation:
/// - normally only while both leases say `.held` (a holder that knows it may have lost its lease is not
///   trusted by the recipe's contract), except that the holder of the session the fault expired may
///   overlap its successor until it hears so (ZooKeeper's caveat: the takeover closed it from another
///   server); those overlaps are counted and reported, not failed;
/// - under ``Fault/partition`` (`strict`) ANY overlap of two bodies is a violation, whatever the leases
///   say: the partitioned holder's body must end before anyone else is granted its resources.
final class HoldLedger: Sendable {
    struct Claim: Sendable {
        var worker: Int
        var resources: [String]
        var exclusive: Bool
        var leases: [LockLease]
    }

    struct State {
        var inside: [Int: Claim] = [:]
        var violations: [String] = []
        var expiredSession: Int64?
        var expiredOverlaps = 0
        var partitionedAt: ContinuousClock.Instant?
        var lastEntered: Int?
        /// The most bodies seen inside at once per resource (reported: shows the sharing happened).
        var peak: [String: Int] = [:]
        /// Highest fencing token committed per resource by exclusive claims; lower ones are stale.
        var maxToken: [String: Int64] = [:]
        var staleRejected = 0
        var commits = 0
    }

    let state = Mutex(State())
    let strict: Bool
    let capacity: [String: Int]

    init(strict: Bool, capacity: [String: Int] = [:]) {
        self.strict = strict
        self.capacity = capacity
    }

    func enter(_ claim: Claim) {
        state.withLock { state in
            let counted = strict || claim.leases.allSatisfy { $0.status == .held }
            for resource in claim.resources {
                let peers = state.inside.values.filter { $0.resources.contains(resource) }
                state.peak[resource] = max(state.peak[resource] ?? 0, peers.count + 1)
                guard counted else { continue }
                var trusted: [Claim] = []
                for peer in peers {
                    if strict { trusted.append(peer); continue }
                    guard peer.leases.allSatisfy({ $0.status == .held }) else { continue }
                    if let expired = state.expiredSession, peer.leases.contains(where: { $0.sessionID == expired }) {
                        state.expiredOverlaps += 1  // fenced: its tokens are older than the successor's
                    } else {
                        trusted.append(peer)
                    }
                }
                let conflict = claim.exclusive || trusted.contains(where: \.exclusive)
                    ? !trusted.isEmpty
                    : trusted.count + 1 > capacity[resource, default: 1]
                if conflict {
                    let since = state.partitionedAt.map { " (\(Outcome.seconds(.now - $0)) after the partition began)" } ?? ""
                    let who = trusted.map { "\($0.worker)\($0.exclusive ? "(x)" : "")" }.joined(separator: ",")
                    state.violations.append(
                        "worker \(claim.worker)\(claim.exclusive ? "(x)" : "") entered \(resource) while \(who) held it\(since)")
                }
            }
            state.inside[claim.worker] = claim
            state.lastEntered = claim.worker
        }
    }

    /// Records the body's write to each resource, fenced by its lease's token (exclusive claims only).
    func commit(_ claim: Claim) {
        state.withLock { state in
            state.commits += 1
            guard claim.exclusive else { return }
            for (resource, lease) in zip(claim.resources, claim.leases) {
                if lease.fencingToken < state.maxToken[resource, default: .min] {
                    state.staleRejected += 1
                } else {
                    state.maxToken[resource] = lease.fencingToken
                }
            }
        }
    }

    /// Who is inside now and their leases' status, for progress reports.
    var insideSummary: String {
        state.withLock { state in
            state.inside.values.sorted { $0.worker < $1.worker }
                .map { "\($0.worker)\($0.exclusive ? "(x)" : "") \($0.leases.map { "\($0.status)" })" }.joined(separator: ", ")
        }
    }

    func exit(_ worker: Int) { state.withLock { _ = $0.inside.removeValue(forKey: worker) } }
}
