import ZooKeeperProtocol
import Synchronization

/// The role → pipeline bridge of a server that is an ensemble member: each report becomes a job on the
/// pipeline thread, in the order the role made it.
final class PipelineClientSide: QuorumClientSide {
    /// Bound once the pipeline exists (the pipeline needs the peer, the peer needs this).
    private let pipeline = Mutex<RequestPipeline?>(nil)

    init() {}

    func bind(_ pipeline: RequestPipeline) { self.pipeline.withLock { $0 = pipeline } }

    private func run(inlineIfIdle: Bool = false, _ job: @escaping @Sendable (PipelineState) -> Void) {
        pipeline.withLock { $0 }?.perform(job, inlineIfIdle: inlineIfIdle)
    }

    func startServing(database: ZooKeeperDatabase, storage: QuorumStorage?, state: QuorumPeerState, epoch: Int64) {
        run { $0.memberStartServing(database, state: state, epoch: epoch, storage: storage) }
    }

    func committed(_ txn: LoggedTxn) { run(inlineIfIdle: true) { $0.memberCommitted(txn) } }

    func withCommittedDatabase(_ body: @escaping @Sendable (ZooKeeperDatabase) -> Void) {
        // A copy (copy-on-write) taken in commit order; the work on it leaves the pipeline thread.
        run { state in
            let database = state.database
            Task.detached(priority: .utility) { body(database) }
        }
    }
    func syncCompleted() { run { $0.memberSyncCompleted() } }
    func revalidated(session: Int64, valid: Bool) { run { $0.memberRevalidated(session: session, valid: valid) } }
    func sessionMovedAway(_ session: Int64) { run { $0.memberSessionMovedAway(session) } }
    func stopServing() async -> ZooKeeperDatabase? {
        guard let pipeline = pipeline.withLock({ $0 }) else { return nil }
        // `perform` runs the job at once if the pipeline thread has stopped, so this always resumes.
        return await withCheckedContinuation { continuation in
            pipeline.perform { continuation.resume(returning: $0.memberStopServing()) }
        }
    }
    func startReadOnly(database: ZooKeeperDatabase) { run { $0.memberStartReadOnly(database) } }
    func stopReadOnly() { run { $0.memberStopReadOnly() } }
}
