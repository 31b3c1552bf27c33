/// An atom's confidence, `0.40·V + 0.30·R + 0.20·C + 0.10·I` with the default weights, its parts and the review decision.
public struct ConfidenceScore: Sendable, Hashable {
    /// The score, 0...1.
    public var value: Double
    public var validation: Double
    public var retries: Double
    public var complexity: Double
    public var integration: Double
    public var decision: ReviewDecision

    /// Scores the input under the policy. Counts out of range are clamped (more passes than runs,
    /// attempts beyond the maximum), so a caller's off-by-one cannot push the score outside 0...1.
    public init(_ input: ConfidenceInput, policy: ConfidencePolicy = .default) {
        func share(_ passed: Int, of run: Int, otherwise unknown: Double) -> Double {
            run <= 0 ? unknown : Double(min(max(passed, 0), run)) / Double(run)
        }
        validation = share(input.validatorsPassed, of: input.validatorsRun, otherwise: policy.validationWhenNoValidatorRan)
        let attempts = min(max(input.attempts, 1), policy.maxAttempts)
        retries = 1 - Double(attempts - 1) / Double(policy.maxAttempts)
        complexity = policy.complexityScores[input.complexity] ?? 0
        integration = share(input.testsPassed, of: input.testsRun, otherwise: policy.integrationWhenNoTestsRan)
        let weighted = policy.validationWeight * validation + policy.retryWeight * retries
            + policy.complexityWeight * complexity + policy.integrationWeight * integration
        // Rounded to 9 places so that a score that is exactly a threshold in decimals (0.4·0.5 + 0.3 + 0.1 + 0.1
        // = 0.70) is not pushed below it by binary floating-point error.
        value = min(max((weighted * 1e9).rounded() / 1e9, 0), 1)
        if value >= policy.reviewThreshold {
            decision = .accept
        } else {
            decision = .review(value < policy.highPriorityThreshold ? .high : .medium)
        }
    }
}
