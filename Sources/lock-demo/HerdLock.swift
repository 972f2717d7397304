import ZooKeeperClient

/// **ANTI-PATTERN — for comparison only.** The naive ZooKeeper lock many tutorials show: every waiter
/// lists the lock directory with a children watch and, whenever anything changes, wakes up and lists
/// it again. Each release (and each new contender!) wakes *every* waiter although only one can
/// proceed: N waiters → about N notifications and N getChildren calls per hand-over (the herd effect).
///
/// The recipe (``DistributedMutex``) has each waiter watch only its immediate predecessor instead:
/// one notification per hand-over, whatever N is. Mutual exclusion holds here too; it is the cost
/// that is wrong.
struct HerdLock: Sendable {
    let client: ZooKeeperClient
    let directory: ZNodePath
    static let prefix = "herd-lock-"

    struct Held: Sendable {
        var path: ZNodePath
        var fencingToken: Int64
    }

    func acquire() async throws -> Held {
        let (created, stat) = try await client.createReturningStat(
            try directory.appending(Self.prefix), mode: .ephemeralSequential)
        let path = try ZNodePath(created)
        let name = path.name
        do {
            while true {
                let (children, _, watch) = try await client.getChildrenWatching(directory)
                // Sequence suffixes are fixed-width: plain string order is sequence order.
                let first = children.filter { $0.hasPrefix(Self.prefix) }.min()
                if first == name { return Held(path: path, fencingToken: stat.czxid) }
                _ = try await watch.event()  // any child change at all wakes us: the storm
            }
        } catch {
            try? await client.delete(path)
            throw error
        }
    }

    func release(_ held: Held) async throws {
        try await client.delete(held.path)
    }
}
