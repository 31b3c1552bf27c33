/// The facts about one atom's final attempt that its confidence is computed from.
public struct ConfidenceInput: Sendable, Hashable {
    public var validatorsPassed: Int
    public var validatorsRun: Int
    /// Attempts made, the final one included (1 when the first attempt was accepted).
    public var attempts: Int
    public var complexity: Complexity
    /// Due tests touching the atom's task that passed, and that ran.
    public var testsPassed: Int
    public var testsRun: Int

    public init(validatorsPassed: Int, validatorsRun: Int, attempts: Int, complexity: Complexity, testsPassed: Int = 0,
                testsRun: Int = 0) {
        self.validatorsPassed = validatorsPassed
        self.validatorsRun = validatorsRun
        self.attempts = attempts
        self.complexity = complexity
        self.testsPassed = testsPassed
        self.testsRun = testsRun
    }
}
