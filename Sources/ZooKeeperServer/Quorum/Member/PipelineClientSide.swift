import ZooKeeperProtocol
import Synchronization

/// The role → pipeline bridge of a server that is an ensemble member: each report becomes a job on the
/// pipeline thread, in the order the role made it.
final class PipelineClientSide: QuorumClientSide {
    /// Bound once the pipeline exists (the pipeline needs the peer, the peer needs this).
    private let pipeline = Mutex<RequestPipeline?>(nil)

    init() {}

    func bind(_ pipeline: RequestPipeline) { self.pipeline.withLock { $0 = pipeline } }

    private func run(_ job: @escaping @Sendable (PipelineState) -> Void) {
        pipeline.withLock { $0 }?.perform(job)
    }

    func startServing(database: ZooKeeperDatabase, state: QuorumPeerState, epoch: Int64) {
        run { $0.memberStartServing(database, state: state, epoch: epoch) }
    }

    func committed(_ txn: LoggedTxn) { run { $0.memberCommitted(txn) } }
    func syncCompleted() { run { $0.memberSyncCompleted() } }
    func revalidated(session: Int64, valid: Bool) { run { $0.memberRevalidated(session: session, valid: valid) } }
    func stopServing() { run { $0.memberStopServing() } }
    func startReadOnly(database: ZooKeeperDatabase) { run { $0.memberStartReadOnly(database) } }
    func stopReadOnly() { run { $0.memberStopReadOnly() } }
}
