import Testing
@testable import PlanCore

@Suite("Cost and duration estimate")
struct PlanEstimatorTests {
    static func policy(concurrency: Int) -> EstimatePolicy {
        var tokens: [Complexity: TokenEstimate] = [:]
        var latency: [Complexity: Duration] = [:]
        for complexity in Complexity.allCases {
            tokens[complexity] = TokenEstimate(input: 2_000, output: 1_000)
            latency[complexity] = .seconds(30)
        }
        tokens[.low] = TokenEstimate(input: 1_000, output: 500, cachedInput: 100)
        latency[.low] = .seconds(10)
        return EstimatePolicy(tokensPerAttempt: tokens, latencyPerAttempt: latency, expectedAttempts: 1.5, concurrency: concurrency,
                              prices: PriceTable(inputPerMillion: 2, outputPerMillion: 10, cachedInputPerMillion: 1))
    }

    static let plan = ExecutionPlan(try! TestPlans.validated([
        TestPlans.task(1, files: ["a.py"], complexity: .low),
        TestPlans.task(2, dependsOn: [1], files: ["b.py", "c.py"], complexity: .high),
    ]))

    @Test("tokens and cost follow the price table, the complexities and the expected attempts")
    func cost() {
        let estimate = PlanEstimator.estimate(Self.plan, policy: Self.policy(concurrency: 1))
        #expect(estimate.atoms == 3)
        #expect(estimate.waves == 2)
        #expect(estimate.calls == 5)
        #expect(estimate.inputTokens == 7_500)
        #expect(estimate.outputTokens == 3_750)
        #expect(estimate.cachedInputTokens == 150)
        #expect(abs(estimate.costUSD - 0.05265) < 1e-12)
    }

    @Test("duration schedules each wave on the available slots and adds the waves up", arguments: [(1, 105), (2, 60), (8, 60)])
    func duration(_ sample: (concurrency: Int, seconds: Int)) {
        #expect(PlanEstimator.estimate(Self.plan, policy: Self.policy(concurrency: sample.concurrency)).duration == .seconds(sample.seconds))
    }

    @Test("the price table computes dollars per million tokens")
    func priceTable() {
        #expect(PriceTable.reference.cost(input: 1_000_000, output: 1_000_000, cachedInput: 1_000_000) == 18.3)
        #expect(PriceTable.reference.cost(input: 0, output: 0, cachedInput: 0) == 0)
    }

    @Test("the default policy gives a positive estimate for the sample plan")
    func defaults() {
        let estimate = PlanEstimator.estimate(ExecutionPlan(SamplePlan.validated))
        #expect(estimate.atoms == 10)
        #expect(estimate.calls == 13)
        #expect(estimate.costUSD > 0)
        #expect(estimate.duration > .zero)
    }
}
