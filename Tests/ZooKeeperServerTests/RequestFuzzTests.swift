import Foundation
import Testing
import ZooKeeperTestSupport

/// The request-path fuzzer's CI slice: ≥ 10,000 seeded cases against a `zk-server` child process over
/// many connections, the server checked between batches and across a final kill -9 (TestSupport's
/// `FuzzRun`; the long soak is `zk-bench fuzz --cases 1000000`). `SHEPHERD_FUZZ_SEED` picks another seed.
@Suite("Request-path fuzzer", .timeLimit(.minutes(5)))
struct RequestFuzzTests {
    static let seed = ProcessInfo.processInfo.environment["SHEPHERD_FUZZ_SEED"].flatMap { UInt64($0) } ?? 20_251_204

    @Test("the case generator is a pure function of (seed, index)")
    func generatorIsPure() {
        for index: UInt64 in [0, 1, 2, 999, 123_456_789] {
            let once = FuzzCaseGenerator.makeCase(seed: 7, index: index)
            let again = FuzzCaseGenerator.makeCase(seed: 7, index: index)
            #expect(once == again, "case \(index) differs between two generations")
            #expect(once != FuzzCaseGenerator.makeCase(seed: 8, index: index), "seeds 7 and 8 give the same case \(index)")
        }
    }

    @Test("2,000 cases cover every family and vary")
    func generatorCoversEveryFamily() {
        var families: Set<FuzzFamily> = []
        var distinct: Set<[UInt8]> = []
        for index: UInt64 in 0..<2_000 {
            let fuzzCase = FuzzCaseGenerator.makeCase(seed: 1, index: index)
            families.insert(fuzzCase.family)
            distinct.insert(fuzzCase.bytes)
        }
        #expect(families == Set(FuzzFamily.allCases), "missing: \(Set(FuzzFamily.allCases).subtracting(families))")
        // Small families repeat by design (a four-letter word alone, a second handshake).
        #expect(distinct.count > 1_800, "only \(distinct.count) distinct cases of 2,000")
    }

    @Test("10,000 fuzz cases: zk-server answers each correctly, survives, and its tree survives kill -9",
          .enabled(if: ShepherdServerProcess.binaryPath != nil, Comment(rawValue: ShepherdServerProcess.notBuiltMessage)))
    func ciSlice() async throws {
        var options = FuzzRun.Options(seed: Self.seed, cases: 10_000)
        options.connections = 24
        options.batchSize = 1_000
        print("[fuzz] seed \(Self.seed) (set SHEPHERD_FUZZ_SEED to replay another)")
        let report = try await FuzzRun.runOnFreshServer(options)
        print("[fuzz] \(report)")
        #expect(report.cases == 10_000)
        #expect(report.passed, "\(report)")
        #expect(report.restart != nil, "the kill -9 and restart check did not run")
    }
}
