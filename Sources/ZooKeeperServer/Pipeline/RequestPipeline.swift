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
///
/// One step at a time runs the state (the `busy` baton). On an ensemble member, whose pipeline never
/// fsyncs (its role logs), a submitter that finds the thread idle runs a small step itself instead of
/// waking it: a forwarded write, a read or a commit's reply then costs one context switch less on each
/// side of the round trip (~25 µs each here).
final class RequestPipeline: Sendable {
    typealias Job = @Sendable (PipelineState) -> Void

    private struct Inbox {
        var events: [NetworkEvent] = []
        /// Jobs that must run on the pipeline (fault injection, role reports, queries from the API);
        /// nil once the thread has stopped.
        var jobs: [Job]? = []
        var stop = false
        /// A step is running: on the thread, or on a submitter's (`runInline`).
        var busy = false
        /// The thread waits with nothing to do until `parkedUntil` (its next timer): a submitter may step.
        var parked = false
        var parkedUntil = ContinuousClock.Instant.now
        /// The thread woke and found a submitter stepping: wake it when the step ends.
        var threadWaiting = false

        var idle: Bool { parked && !busy && !stop && events.isEmpty && jobs?.isEmpty == true }
    }

    /// Events per submission a submitter may step itself: a sequential client's one request. Larger
    /// batches (pipelined load) go to the thread, so reading and applying keep overlapping.
    private static let inlineEvents = 2

    private let inbox = Mutex(Inbox())
    private let wakeup: WakeupPipe
    private let thread = ServiceThread()
    /// Whether a submitter may step: on an ensemble member's pipeline, which never fsyncs (its role logs).
    /// Both facts are fixed before the pipeline is made.
    private let stepsInline: Bool
    let state: PipelineStateBox

    init(state: PipelineState) throws {
        self.wakeup = try WakeupPipe()
        self.state = PipelineStateBox(state)
        self.stepsInline = state.isMember && state.persistence == nil
    }

    func submit(_ events: [NetworkEvent]) {
        guard !events.isEmpty else { return }
        let inline = stepsInline && events.count <= Self.inlineEvents
        let stepping = inbox.withLock { box -> Bool in
            if inline && box.idle {
                box.busy = true
                return true
            }
            box.events.append(contentsOf: events)
            return false
        }
        if stepping { runInline(events: events, jobs: []) } else { wakeup.wake() }
    }

    /// Runs `job` on the pipeline, between batches (`inlineIfIdle`: on this thread if the pipeline is idle
    /// and allows it). Jobs still queued when the thread stops run as it exits, so a caller waiting on one
    /// is never left hanging.
    func perform(_ job: @escaping Job, inlineIfIdle: Bool = false) {
        enum Decision { case queued, inline, stopped }
        let inline = stepsInline && inlineIfIdle
        let decision = inbox.withLock { box -> Decision in
            guard box.jobs != nil else { return .stopped }
            if inline && box.idle {
                box.busy = true
                return .inline
            }
            box.jobs!.append(job)
            return .queued
        }
        switch decision {
        case .queued: wakeup.wake()
        case .inline: runInline(events: [], jobs: [job])
        case .stopped: job(state.value)
        }
    }

    func start() {
        thread.start(name: "zookeeper-server-pipeline") { [self] in run() }
    }

    func stop() async {
        inbox.withLock { $0.stop = true }
        wakeup.wake()
        await thread.waitUntilFinished()
    }

    /// One step: jobs, events, timers, then the batch's release. False if the log failed.
    private func step(_ state: PipelineState, events: [NetworkEvent], jobs: [Job]) -> Bool {
        for job in jobs { job(state) }
        for event in events { state.handle(event) }
        state.runTimers()
        return state.releaseBatch()
    }

    /// A submitter's step, holding the baton; the thread is woken if anything is left for it, or if this
    /// step set a timer earlier than the one it waits for.
    private func runInline(events: [NetworkEvent], jobs: [Job]) {
        let state = self.state.value
        let released = step(state, events: events, jobs: jobs)
        let nextTimer = ContinuousClock.now + state.timeUntilNextTimer()
        let wake = inbox.withLock { box -> Bool in
            box.busy = false
            if !released { box.stop = true }  // the thread ends the pipeline, as after its own failed step
            return box.threadWaiting || !box.events.isEmpty || box.jobs?.isEmpty == false || !released
                || nextTimer < box.parkedUntil
        }
        if wake { wakeup.wake() }
    }

    private enum Claim {
        case step([NetworkEvent], [Job])
        case waitForBaton
        case stop
    }

    private func run() {
        let state = self.state.value
        loop: while true {
            let claim = inbox.withLock { box -> Claim in
                box.parked = false
                if box.busy {
                    box.threadWaiting = true
                    return .waitForBaton
                }
                box.threadWaiting = false
                box.busy = true  // held from here on when stopping: no submitter steps after the end
                if box.stop { return .stop }
                defer {
                    box.events = []
                    if box.jobs != nil { box.jobs = [] }
                }
                return .step(box.events, box.jobs ?? [])
            }
            switch claim {
            case .stop:
                break loop
            case .waitForBaton:
                // The stepping submitter wakes this thread when it is done.
                _ = try? Poller.waitFor(fd: wakeup.readFD, events: Poller.readable, timeout: .seconds(1))
                wakeup.drain()
            case let .step(events, jobs):
                if !step(state, events: events, jobs: jobs) {
                    break loop  // the log failed: nothing more can be acknowledged
                }
                let wait = events.isEmpty && jobs.isEmpty ? state.timeUntilNextTimer() : nil
                let park = inbox.withLock { box -> Bool in
                    box.busy = false
                    guard let wait, box.events.isEmpty, box.jobs?.isEmpty == true, !box.stop else { return false }
                    box.parked = true
                    box.parkedUntil = .now + wait
                    return true
                }
                if let wait, park {
                    _ = try? Poller.waitFor(fd: wakeup.readFD, events: Poller.readable, timeout: wait)
                    wakeup.drain()
                }
            }
        }
        state.shutdown()
        let leftover = inbox.withLock { box in
            defer { box.jobs = nil }
            return box.jobs ?? []
        }
        for job in leftover { job(state) }
    }
}

/// Hands the thread-confined state to whoever runs the pipeline's step.
///
/// `@unchecked Sendable` is safe here: after `init` the state is touched only by the holder of the `busy`
/// baton in ``RequestPipeline``'s inbox — the pipeline thread, or a submitter stepping in its place while
/// it is idle — and each takes and returns the baton under that inbox's mutex, so a step sees everything
/// the step before it wrote. Jobs queued after the thread stopped run on their caller, once nothing steps.
final class PipelineStateBox: @unchecked Sendable {
    let value: PipelineState
    init(_ value: PipelineState) { self.value = value }
}
