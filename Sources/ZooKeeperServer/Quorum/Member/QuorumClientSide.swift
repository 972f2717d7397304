import ZooKeeperProtocol
import Synchronization

/// What a member's roles tell the side that serves clients (the request pipeline), in commit order.
///
/// Apache's roles hand committed requests to `CommitProcessor` → `FinalRequestProcessor`, which apply them
/// and answer clients. Here the role calls these from its own thread, in the order things happened on the
/// leader connection, and the pipeline applies them to the committed database on its thread — so watches
/// fire, replies go out and reads see the data in one order.
///
/// While a role serves, the committed database is the client side's alone (as Apache's member has one
/// `ZKDatabase`): the role hands it over at ``startServing(database:storage:state:epoch:)`` and gets it back
/// from ``stopServing()``, so each commit is applied once and the tree is held once.
protocol QuorumClientSide: Sendable {
    /// The role is synchronised: serve clients from `database`, which is this side's from now on (it applies
    /// every commit and counts them toward `storage`'s snapshots).
    func startServing(database: ZooKeeperDatabase, storage: QuorumStorage?, state: QuorumPeerState, epoch: Int64)
    /// A transaction the quorum committed (after those before it).
    func committed(_ txn: LoggedTxn)
    /// Calls `body` (on another thread) with the committed database as it stands after every commit reported
    /// so far: the leader's snapshot for a learner.
    func withCommittedDatabase(_ body: @escaping @Sendable (ZooKeeperDatabase) -> Void)
    /// The leader answered the oldest `sync` this member forwarded.
    func syncCompleted()
    /// The leader's answer to a session that reconnected here (REVALIDATE).
    func revalidated(session: Int64, valid: Bool)
    /// Leader only: another member serves `session` now (its REVALIDATE came after ours). Apache's leader checks
    /// the owner of its own clients' reads too: the session's next read or ping here closes its connection.
    func sessionMovedAway(_ session: Int64)
    /// The role ended: every client connection goes (Apache shuts its ZooKeeperServer down). Returns the
    /// committed database with every commit reported before, if a role had handed it over.
    func stopServing() async -> ZooKeeperDatabase?
    /// No quorum for the grace period (`readonlymode.enabled`): serve read-only clients from this database.
    func startReadOnly(database: ZooKeeperDatabase)
    /// The election ended: the read-only service stops and its clients go (they find a read-write server).
    func stopReadOnly()
}

/// Sessions with recent client activity on this member, for the leader's expiry (Apache's
/// `LearnerSessionTracker` touch table, sent with each PING reply; the leader drains its own).
final class SessionActivity: Sendable {
    private let touched = Mutex<[Int64: Int32]>([:])

    init() {}

    func touch(_ session: Int64, timeout: Int32) {
        touched.withLock { $0[session] = timeout }
    }

    /// The sessions touched since the last drain, with their timeouts.
    func drain() -> [(session: Int64, timeout: Int32)] {
        touched.withLock { table in
            defer { table = [:] }
            return table.map { (session: $0.key, timeout: $0.value) }
        }
    }
}
