import Testing
import ZooKeeperTestSupport
@testable import ZooKeeperServer

/// Many seeded runs of fast leader election under faults (see ``ElectionSimulation``). A failing seed
/// reproduces exactly: run `ElectionSimulation(size:seed:faults:)` with it.
@Suite struct ElectionSimulationTests {
    /// No faults beyond delay and reordering: one election settles every peer under one leader.
    @Test(arguments: [3, 5])
    func aHealthyEnsembleSettlesInOneElection(size: Int) throws {
        for seed in UInt64(1)...200 {
            var simulation = try ElectionSimulation(size: size, seed: seed, faults: .init())
            let safe = simulation.run(until: .at(5_000))
            let violations = simulation.violations
            #expect(safe, "seed \(seed): \(violations)")
            let settled = simulation.isSettled
            #expect(settled, "seed \(seed) did not settle")
            // One election was enough: late starters joined the first leader instead of unseating it.
            let leaders = simulation.leaders
            #expect(leaders.count == 1, "seed \(seed): epochs \(leaders)")
        }
    }

    /// Drops, duplicates, crashes and cut links; then the network heals and every peer must end up in one
    /// ensemble. Safety holds at every step.
    @Test(arguments: [3, 5])
    func electionSurvivesFaultsAndConverges(size: Int) throws {
        let faults = ElectionSimulation.Faults(
            maxDelay: .milliseconds(300), dropRate: 0.1, duplicateRate: 0.1, crashRate: 0.05, partitionRate: 0.05)
        var epochs = 0
        for seed in UInt64(1)...300 {
            var simulation = try ElectionSimulation(size: size, seed: seed, faults: faults)
            let safe = simulation.run(until: .at(20_000))
            let violations = simulation.violations
            #expect(safe, "seed \(seed): \(violations)")
            simulation.heal()
            var settled = false
            for limit in stride(from: 21_000, through: 120_000, by: 1_000) {
                guard simulation.run(until: .at(Int64(limit))) else { break }
                if simulation.isSettled { settled = true; break }
            }
            let remaining = simulation.violations
            #expect(remaining.isEmpty, "seed \(seed): \(remaining)")
            #expect(settled, "seed \(seed) did not converge within 100 s of simulated time after healing")
            epochs += simulation.leaders.count
        }
        #expect(epochs > 300, "faults should force re-elections (\(epochs) epochs)")
    }
}
