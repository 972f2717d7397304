import Testing
import ZooKeeperClient
import ZooKeeperServer
import ZooKeeperTestSupport

/// Differential testing: the same seeded random sequences of operations (every op, errors included,
/// three sessions, one-shot and persistent watches, sessions closed mid-run) against Apache ZooKeeper
/// 3.8 and Shepherd's server; answers, normalised stats and watch events must match step by step.
///
/// CI runs a few seeds (bounded). For a soak: `SHEPHERD_DIFF_SEEDS=1...200 SHEPHERD_DIFF_STEPS=2000`
/// (which also replays a reported divergence: the report prints its seed and step).
@Suite("Differential: Shepherd vs Apache ZooKeeper 3.8", .serialized,
       .enabled(if: ApacheZooKeeper.isInstalled, Comment(rawValue: ApacheZooKeeper.notInstalledMessage)))
struct DifferentialTests {
    static let ciSeeds: [UInt64] = [1, 2, 3, 4, 5, 6, 7, 8]
    static let ciSteps = 400

    @Test("seeded sequences give the same answers and watch events on both servers (CI: 8 seeds × 400 steps)",
          .enabled(if: !DiffParameters.soakRequested, "SHEPHERD_DIFF_SEEDS/STEPS set: the soak test runs instead"),
          .timeLimit(.minutes(3)))
    func boundedRun() async throws {
        try await Self.run(seeds: Self.ciSeeds, steps: Self.ciSteps)
    }

    @Test("soak: the seeds and steps of SHEPHERD_DIFF_SEEDS / SHEPHERD_DIFF_STEPS",
          .enabled(if: DiffParameters.soakRequested, "set SHEPHERD_DIFF_SEEDS and/or SHEPHERD_DIFF_STEPS"),
          .timeLimit(.minutes(240)))
    func soak() async throws {
        try await Self.run(seeds: DiffParameters.seeds(default: Self.ciSeeds), steps: DiffParameters.steps(default: 2000))
    }

    static func run(seeds: [UInt64], steps: Int) async throws {
        // The same settings on both: TTL nodes on; container/TTL reaping far beyond the run (it is
        // time-driven, so it would make the two servers differ by timing alone); Apache without fsync.
        let apache = try await TestServerFixture.privateApacheServer(.init(
            extraConfig: ["forceSync=no", "extendedTypesEnabled=true"],
            javaOptions: ["-Dzookeeper.extendedTypesEnabled=true", "-Dznode.container.checkIntervalMs=3600000"]))
        defer { apache.cleanup() }
        var configuration = EmbeddedServer.defaultConfiguration
        configuration.extendedTypesEnabled = true
        try await withEmbeddedServer(configuration: configuration, inMemory: true) { ours in
            await ours.setContainerCheckInterval(.seconds(3600))

            let runner = DifferentialRunner(referenceConnect: apache.connectString, candidateConnect: ours.connectString)
            let clock = ContinuousClock()
            let start = clock.now
            var failures = 0
            for seed in seeds {
                let seedStart = clock.now
                let summary = try await runner.run(seed: seed, steps: steps)
                let errors = summary.errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                print("differential seed \(seed): \(summary.steps) steps in \(clock.now - seedStart); "
                      + "apache errors: \(errors)")
                if let divergence = summary.divergence {
                    Issue.record(Comment(rawValue: divergence.description))
                    failures += 1
                    if failures >= 3 { break }
                }
            }
            print("differential: \(seeds.count) seeds × \(steps) steps in \(clock.now - start)")
        }
    }
}
