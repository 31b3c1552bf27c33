/// The verdict of Gate S for one wave, with the counts behind it and the tests that did not pass.
public struct GateResult: Sendable, Hashable, CustomStringConvertible {
    /// A due test that did not pass, and why.
    public struct Failure: Sendable, Hashable {
        public enum Reason: Sendable, Hashable {
            /// It ran and did not pass.
            case outcome(TestOutcome)
            /// It was due (or the wave was the last) but has no outcome: a test that never ran cannot pass.
            case notRun
        }
        public var testID: String
        public var priority: CriterionPriority
        public var reason: Reason

        public init(testID: String, priority: CriterionPriority, reason: Reason) {
            self.testID = testID
            self.priority = priority
            self.reason = reason
        }
    }

    public var passed: Bool
    public var mustTotal: Int
    public var mustPassed: Int
    public var shouldTotal: Int
    public var shouldPassed: Int
    /// The ids of the tests evaluated (the due ones, or all on the final wave), in input order.
    public var evaluated: [String]
    /// Every evaluated test that did not pass, MUST before SHOULD, otherwise in input order.
    public var failures: [Failure]

    /// Rebuilds a stored result; new results come from `GateS.evaluate`.
    public init(passed: Bool, mustTotal: Int, mustPassed: Int, shouldTotal: Int, shouldPassed: Int, evaluated: [String],
                failures: [Failure]) {
        self.passed = passed
        self.mustTotal = mustTotal
        self.mustPassed = mustPassed
        self.shouldTotal = shouldTotal
        self.shouldPassed = shouldPassed
        self.evaluated = evaluated
        self.failures = failures
    }

    /// `passed: MUST 3/3, SHOULD 19/20` — the line stored with the gate result and shown in the UI.
    public var description: String {
        "\(passed ? "passed" : "failed"): MUST \(mustPassed)/\(mustTotal), SHOULD \(shouldPassed)/\(shouldTotal)"
    }
}
