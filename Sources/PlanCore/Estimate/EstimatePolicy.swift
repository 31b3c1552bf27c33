/// The assumptions behind a plan's cost and duration estimate; configuration, to be tuned from the
/// `llm_calls` table of past runs.
public struct EstimatePolicy: Sendable, Hashable {
    /// Tokens of one attempt of one atom, by the task's complexity. Input grows with complexity because
    /// the prompt carries the files of more dependencies; the cached part is the shared preamble (tech
    /// stack and instructions) that providers cache between calls.
    public var tokensPerAttempt: [Complexity: TokenEstimate]
    /// Wall-clock time of one attempt, by complexity (dominated by output tokens at the model's speed).
    public var latencyPerAttempt: [Complexity: Duration]
    /// Average attempts per atom, retries included (at least 1).
    public var expectedAttempts: Double
    /// Atoms run at once within a wave.
    public var concurrency: Int
    public var prices: PriceTable

    public init(tokensPerAttempt: [Complexity: TokenEstimate] = [
                    .low: TokenEstimate(input: 3_000, output: 1_200, cachedInput: 1_500),
                    .medium: TokenEstimate(input: 5_000, output: 2_500, cachedInput: 1_500),
                    .high: TokenEstimate(input: 8_000, output: 4_500, cachedInput: 1_500),
                    .critical: TokenEstimate(input: 12_000, output: 7_000, cachedInput: 1_500),
                ],
                latencyPerAttempt: [Complexity: Duration] = [
                    .low: .seconds(20), .medium: .seconds(40), .high: .seconds(70), .critical: .seconds(110),
                ],
                expectedAttempts: Double = 1.3, concurrency: Int = 4, prices: PriceTable = .reference) {
        precondition(Complexity.allCases.allSatisfy { tokensPerAttempt[$0] != nil && latencyPerAttempt[$0] != nil },
                     "every complexity needs a token estimate and a latency")
        precondition(expectedAttempts >= 1, "expectedAttempts must be at least 1")
        precondition(concurrency >= 1, "concurrency must be at least 1")
        self.tokensPerAttempt = tokensPerAttempt
        self.latencyPerAttempt = latencyPerAttempt
        self.expectedAttempts = expectedAttempts
        self.concurrency = concurrency
        self.prices = prices
    }

    public static let `default` = EstimatePolicy()
}
