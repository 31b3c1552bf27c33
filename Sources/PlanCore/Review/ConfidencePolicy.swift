/// The weights and thresholds of the confidence score; configuration, with the design's defaults.
public struct ConfidencePolicy: Sendable, Hashable {
    /// Weight of V, the share of validators passed on the final attempt.
    public var validationWeight: Double
    /// Weight of R, 1 − (attempts − 1) / maxAttempts.
    public var retryWeight: Double
    /// Weight of C, the complexity score.
    public var complexityWeight: Double
    /// Weight of I, the share of due tests touching the atom's task that pass.
    public var integrationWeight: Double
    public var maxAttempts: Int
    /// C for each complexity.
    public var complexityScores: [Complexity: Double]
    /// I when no due test touching the task has run yet: unknown, so neither credit nor blame.
    public var integrationWhenNoTestsRan: Double
    /// V when no validator applies to the file: likewise unknown.
    public var validationWhenNoValidatorRan: Double
    /// Scores below this go to review.
    public var reviewThreshold: Double
    /// Reviews for scores below this are high priority, the others medium.
    public var highPriorityThreshold: Double

    public init(validationWeight: Double = 0.40, retryWeight: Double = 0.30, complexityWeight: Double = 0.20,
                integrationWeight: Double = 0.10, maxAttempts: Int = 3,
                complexityScores: [Complexity: Double] = [.low: 1.0, .medium: 0.8, .high: 0.5, .critical: 0.3],
                integrationWhenNoTestsRan: Double = 0.5, validationWhenNoValidatorRan: Double = 0.5,
                reviewThreshold: Double = 0.70, highPriorityThreshold: Double = 0.50) {
        precondition(maxAttempts >= 1, "maxAttempts must be at least 1")
        precondition(Complexity.allCases.allSatisfy { complexityScores[$0] != nil }, "every complexity needs a score")
        self.validationWeight = validationWeight
        self.retryWeight = retryWeight
        self.complexityWeight = complexityWeight
        self.integrationWeight = integrationWeight
        self.maxAttempts = maxAttempts
        self.complexityScores = complexityScores
        self.integrationWhenNoTestsRan = integrationWhenNoTestsRan
        self.validationWhenNoValidatorRan = validationWhenNoValidatorRan
        self.reviewThreshold = reviewThreshold
        self.highPriorityThreshold = highPriorityThreshold
    }

    public static let `default` = ConfidencePolicy()
}
