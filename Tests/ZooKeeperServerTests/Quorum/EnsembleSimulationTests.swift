import Foundation
import Testing
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// Seeded runs of the whole protocol — election, discovery, sync, broadcast — under faults (see
/// ``EnsembleSimulation``). A failing seed reproduces exactly: `EnsembleSimulation(size:observers:seed:faults:)` with
/// it. `SHEPHERD_SIMULATION_SEEDS=N` runs N seeds per case instead of the default (a soak).
@Suite struct EnsembleSimulationTests {
    static let seeds: UInt64 = ProcessInfo.processInfo.environment["SHEPHERD_SIMULATION_SEEDS"].flatMap { UInt64($0) } ?? 150

    static let faults = EnsembleSimulation.Faults(
        maxDelay: .milliseconds(20), dropRate: 0.05, duplicateRate: 0.05, crashRate: 0.04, partitionRate: 0.04, isolationRate: 0.02, slowDiskRate: 0.002)

    /// Voters and observers.
    @Test(arguments: [(3, 0), (5, 0), (3, 2)])
    func noAcknowledgedWriteIsLostAndEveryMemberConverges(size: Int, observers: Int) throws {
        var totals: [String: Int] = [:]
        for seed in 1...Self.seeds {
            var simulation = try EnsembleSimulation(size: size, observers: observers, seed: seed, faults: Self.faults)
            let safe = simulation.run(until: .at(15_000))
            let violations = simulation.violations
            #expect(safe, "seed \(seed): \(violations)")
            guard safe else { continue }
            simulation.heal()
            var settled = false
            for limit in stride(from: 16_000, through: 120_000, by: 1_000) {
                guard simulation.run(until: .at(Int64(limit))) else { break }
                if simulation.isSettled { settled = true; break }
            }
            let remaining = simulation.violations + simulation.finalViolations()
            #expect(remaining.isEmpty, "seed \(seed): \(remaining)")
            #expect(settled, "seed \(seed) did not settle within 105 s of simulated time after healing")
            totals.merge(simulation.stats, uniquingKeysWith: +)
        }
        // The faults must have exercised what they are for (150 seeds of 3 members: ~1,200 crashes, ~1,000
        // leaderships, ~650 DIFFs, ~40 SNAPs, ~6 TRUNCs, ~16,000 commits).
        for key in ["crashes", "partitions", "isolations", "leaderships", "snaps", "DIFF", "follower exits", "leader exits"] {
            #expect(totals[key, default: 0] > Int(Self.seeds) / 10, "\(key): \(totals)")
        }
        #expect(totals["commits", default: 0] > 50 * Int(Self.seeds), "\(totals)")
        #expect(Self.seeds < 100 || totals["TRUNC", default: 0] > 0, "\(totals)")
        if observers > 0 { #expect(totals["INFORM", default: 0] > 50 * Int(Self.seeds), "\(totals)") }
    }

    @Test func aSeedReproducesExactly() throws {
        func outcome() throws -> (Int, [String: Int], [Int64], [String]) {
            var simulation = try EnsembleSimulation(size: 5, seed: 45, faults: Self.faults)
            _ = simulation.run(until: .at(10_000))
            return (simulation.steps, simulation.stats, simulation.acknowledged, simulation.violations)
        }
        let (first, second) = (try outcome(), try outcome())
        #expect(first.0 == second.0 && first.1 == second.1 && first.2 == second.2 && first.3 == second.3)
        #expect(first.2.count > 100, "the run committed writes")
    }
}
