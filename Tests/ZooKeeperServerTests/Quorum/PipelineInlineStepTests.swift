#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import Testing
@testable import ZooKeeperServer

/// A member's pipeline lets an idle caller run a small step itself (``RequestPipeline``'s baton): steps
/// must never overlap, each caller's work must keep its order, and a standalone pipeline (which fsyncs in
/// its steps) must keep every step on its own thread.
@Suite(.timeLimit(.minutes(1))) struct PipelineInlineStepTests {
    static func memberPipeline() throws -> RequestPipeline {
        let state = MemberPipelineTests.servingFollower(link: MemberPipelineTests.RecordingLink(),
                                                        session: 0x1A24_43DE_ACC0_0001, connection: 7)
        return try RequestPipeline(state: state)
    }

    static func standalonePipeline() throws -> RequestPipeline {
        let configuration = ServerConfiguration()
        let state = PipelineState(
            configuration: configuration, database: ZooKeeperDatabase(configuration: configuration),
            sessions: SessionTracker(tickTime: configuration.tickTime, serverID: 0, now: 0),
            passwords: .apache, persistence: nil, log: .silent)
        return try RequestPipeline(state: state)
    }

    /// What the jobs of a test saw, from whichever thread ran them.
    final class Probe: Sendable {
        let inside = Atomic<Bool>(false)
        let overlaps = Atomic<Int>(0)
        let inlineSteps = Atomic<Int>(0)
        let ranOnCaller = Atomic<Bool>(false)
        let seen = Mutex<[Int: [Int]]>([:])
    }

    /// Performs a job and returns once it has run: whether it ran on this thread.
    static func performAndWait(_ pipeline: RequestPipeline) async -> Bool {
        let caller = pthread_self()
        let probe = Probe()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            pipeline.perform({ _ in
                probe.ranOnCaller.store(pthread_equal(pthread_self(), caller) != 0, ordering: .releasing)
                continuation.resume()
            }, inlineIfIdle: true)
        }
        return probe.ranOnCaller.load(ordering: .acquiring)
    }

    @Test func anIdleMemberPipelineRunsAStepOnItsCaller() async throws {
        let pipeline = try Self.memberPipeline()
        pipeline.start()
        // The thread parks once it has run its first step with nothing to do: until then jobs go to it.
        var inline = false
        for _ in 0..<500 where !inline {
            inline = await Self.performAndWait(pipeline)
        }
        await pipeline.stop()
        #expect(inline, "an idle member pipeline never let its caller step")
    }

    @Test func aStandalonePipelineKeepsEveryStepOnItsThread() async throws {
        let pipeline = try Self.standalonePipeline()
        pipeline.start()
        var inline = 0
        for _ in 0..<200 where await Self.performAndWait(pipeline) { inline += 1 }
        await pipeline.stop()
        #expect(inline == 0)
    }

    @Test func stepsNeverOverlapAndEachCallerKeepsItsOrder() async throws {
        let pipeline = try Self.memberPipeline()
        pipeline.start()
        let probe = Probe()
        let (callers, burst) = (4, 50)
        // At least 30 rounds each, and on until callers have stepped (bounded: the pipeline idles often).
        let submitted = await withTaskGroup(of: (Int, Int).self) { group in
            for caller in 0..<callers {
                group.addTask {
                    var round = 0
                    while round < 30 || (probe.inlineSteps.load(ordering: .relaxed) == 0 && round < 3_000) {
                        defer { round += 1 }
                        let (thread, first) = (pthread_self(), round * burst)  // no suspension inside a burst: one thread performs it
                        for job in 0..<burst {
                            pipeline.perform({ _ in
                                if probe.inside.exchange(true, ordering: .acquiringAndReleasing) { probe.overlaps.add(1, ordering: .relaxed) }
                                if pthread_equal(pthread_self(), thread) != 0 { probe.inlineSteps.add(1, ordering: .relaxed) }
                                var spin = 0
                                for value in 0..<300 { spin &+= value }  // widens the window a second step would hit
                                probe.seen.withLock { $0[caller, default: []].append(first + job) }
                                probe.inside.store(false, ordering: .releasing)
                                _ = spin
                            }, inlineIfIdle: true)
                        }
                        // Queued or inline, this job runs after the caller's others: the pipeline then drains,
                        // and the next burst may find it idle.
                        _ = await Self.performAndWait(pipeline)
                    }
                    return (caller, round * burst)
                }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        await pipeline.stop()
        #expect(probe.overlaps.load(ordering: .relaxed) == 0)
        #expect(probe.inlineSteps.load(ordering: .relaxed) > 0, "no caller ever stepped: the test proved nothing")
        let orders = probe.seen.withLock { $0 }
        for caller in 0..<callers {
            #expect(orders[caller] == Array(0..<(submitted[caller] ?? 0)), "caller \(caller)'s jobs ran out of order or went missing")
        }
    }

    @Test func jobsAfterTheEndRunOnTheirCaller() async throws {
        let pipeline = try Self.memberPipeline()
        pipeline.start()
        await pipeline.stop()
        #expect(await Self.performAndWait(pipeline))
    }
}
