import Foundation
import Synchronization
import ZooKeeperPOSIX
import ZooKeeperProtocol

/// The request pipeline's thread: takes network events in arrival order, applies them to the database,
/// appends transactions to the log, and releases replies only after one group commit (fsync) makes every
/// transaction of the batch durable.
///
/// Apply-then-release keeps Apache's guarantees with one thread: requests are handled in arrival order,
/// and no reply, notification or read that reflects a transaction leaves before that transaction is on
/// disk — so nobody can observe a write a crash would lose.
final class RequestPipeline: Sendable {
    private let inbox = Mutex<(events: [NetworkEvent], stop: Bool)>(([], false))
    private let wakeup: WakeupPipe
    private let thread = ServiceThread()
    /// Jobs that must run on the pipeline thread (fault injection, 4lw-like queries from the API).
    private let jobs = Mutex<[@Sendable (PipelineState) -> Void]?>([])
    let state: PipelineStateBox

    init(state: PipelineState) throws {
        self.wakeup = try WakeupPipe()
        self.state = PipelineStateBox(state)
    }

    func submit(_ events: [NetworkEvent]) {
        guard !events.isEmpty else { return }
        inbox.withLock { $0.events.append(contentsOf: events) }
        wakeup.wake()
    }

    /// Runs `job` on the pipeline thread, between batches. Jobs still queued when the thread stops
    /// run as it exits, so a caller waiting on one is never left hanging.
    func perform(_ job: @escaping @Sendable (PipelineState) -> Void) {
        jobs.withLock { $0?.append(job) } ?? job(state.value)
        wakeup.wake()
    }

    func start() {
        thread.start(name: "zookeeper-server-pipeline") { [self] in run() }
    }

    func stop() async {
        inbox.withLock { $0.stop = true }
        wakeup.wake()
        await thread.waitUntilFinished()
    }

    private func run() {
        let state = self.state.value
        while true {
            let (events, stopping) = inbox.withLock { box -> ([NetworkEvent], Bool) in
                defer { box.events = [] }
                return (box.events, box.stop)
            }
            if stopping { break }
            let pending = jobs.withLock { jobs in
                defer { jobs = [] }
                return jobs ?? []
            }
            for job in pending { job(state) }
            for event in events { state.handle(event) }
            state.runTimers()
            if !state.releaseBatch() { break }  // the log failed: nothing more can be acknowledged
            if events.isEmpty && pending.isEmpty {
                let wait = state.timeUntilNextTimer()
                _ = try? Poller.waitFor(fd: wakeup.readFD, events: Poller.readable, timeout: wait)
                wakeup.drain()
            }
        }
        state.shutdown()
        let leftover = jobs.withLock { jobs in
            defer { jobs = nil }
            return jobs ?? []
        }
        for job in leftover { job(state) }
    }
}

/// Hands the thread-confined state to the pipeline thread.
///
/// `@unchecked Sendable` is safe here: after `init` the state is touched only on the pipeline thread
/// (directly in `run()`, and through `perform(_:)` jobs, which also run there).
final class PipelineStateBox: @unchecked Sendable {
    let value: PipelineState
    init(_ value: PipelineState) { self.value = value }
}
