import Testing
@testable import ZooKeeperRecipes

@Suite("RetryPolicy", .timeLimit(.minutes(1)))
struct RetryPolicyTests {
    @Test("backoffGrowthLimit: retries past the limit draw from the limit's range")
    func growthLimit() {
        let policy = RetryPolicy(maxRetries: nil, baseDelay: .milliseconds(1), maxDelay: .seconds(10), backoffGrowthLimit: 2)
        // Retry 2 draws 1…8 ms; without the limit retry 20 would draw up to ~2 s.
        for _ in 0..<200 {
            let delay = policy.delay(beforeRetry: 20)
            #expect(delay >= .milliseconds(1) && delay <= .milliseconds(8))
        }
        #expect(RetryPolicy.standard.backoffGrowthLimit == nil)
        let unbounded = RetryPolicy.standard.untilSessionEnds(backoffGrowthLimit: 8)
        #expect(unbounded.maxRetries == nil && unbounded.maxElapsed == nil)
        #expect(unbounded.allowsRetry(after: 1_000_000, elapsed: .seconds(86_400)))
        #expect(unbounded.baseDelay == RetryPolicy.standard.baseDelay && unbounded.maxDelay == RetryPolicy.standard.maxDelay)
    }
}
