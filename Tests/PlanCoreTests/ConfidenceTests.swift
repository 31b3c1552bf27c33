import Testing
@testable import PlanCore

@Suite("Confidence and review decisions")
struct ConfidenceTests {
    struct Sample: Sendable, CustomTestStringConvertible {
        let input: ConfidenceInput
        let value: Double
        let decision: ReviewDecision
        var testDescription: String { "\(input) → \(value)" }
    }

    static let samples: [Sample] = [
        // Everything perfect: 0.4 + 0.3 + 0.2 + 0.1.
        Sample(input: ConfidenceInput(validatorsPassed: 3, validatorsRun: 3, attempts: 1, complexity: .low, testsPassed: 2, testsRun: 2),
               value: 1.0, decision: .accept),
        // No tests yet (I = 0.5), medium complexity: 0.4 + 0.3 + 0.16 + 0.05.
        Sample(input: ConfidenceInput(validatorsPassed: 2, validatorsRun: 2, attempts: 1, complexity: .medium),
               value: 0.91, decision: .accept),
        // Exactly at the review threshold is accepted: 0.2 + 0.3 + 0.1 + 0.1 = 0.70.
        Sample(input: ConfidenceInput(validatorsPassed: 1, validatorsRun: 2, attempts: 1, complexity: .high, testsPassed: 1, testsRun: 1),
               value: 0.70, decision: .accept),
        // Third attempt, critical: 0.4 + 0.1 + 0.06 + 0.05 = 0.61 → medium review.
        Sample(input: ConfidenceInput(validatorsPassed: 4, validatorsRun: 4, attempts: 3, complexity: .critical),
               value: 0.61, decision: .review(.medium)),
        // Exactly 0.50 is medium, not high: 0.2 + 0.1 + 0.1 + 0.1.
        Sample(input: ConfidenceInput(validatorsPassed: 1, validatorsRun: 2, attempts: 3, complexity: .high, testsPassed: 3, testsRun: 3),
               value: 0.50, decision: .review(.medium)),
        // Failing validators and tests: 0 + 0.1 + 0.06 + 0 = 0.16 → high.
        Sample(input: ConfidenceInput(validatorsPassed: 0, validatorsRun: 5, attempts: 3, complexity: .critical, testsPassed: 0, testsRun: 2),
               value: 0.16, decision: .review(.high)),
        // No validator applies: V = 0.5: 0.2 + 0.2 + 0.2 + 0.05 = 0.65.
        Sample(input: ConfidenceInput(validatorsPassed: 0, validatorsRun: 0, attempts: 2, complexity: .low),
               value: 0.65, decision: .review(.medium)),
        // Out-of-range counts are clamped: more passes than runs, more attempts than allowed.
        Sample(input: ConfidenceInput(validatorsPassed: 9, validatorsRun: 3, attempts: 7, complexity: .low, testsPassed: 5, testsRun: 1),
               value: 0.80, decision: .accept),
    ]

    @Test("the score is 0.40·V + 0.30·R + 0.20·C + 0.10·I and decides the review", arguments: samples)
    func score(_ sample: Sample) {
        let score = ConfidenceScore(sample.input)
        #expect(abs(score.value - sample.value) < 1e-9)
        #expect(score.decision == sample.decision)
        #expect((0...1).contains(score.value))
    }

    @Test("weights and thresholds come from the policy")
    func customPolicy() {
        let policy = ConfidencePolicy(validationWeight: 1, retryWeight: 0, complexityWeight: 0, integrationWeight: 0,
                                      reviewThreshold: 0.9, highPriorityThreshold: 0.6)
        let half = ConfidenceScore(ConfidenceInput(validatorsPassed: 1, validatorsRun: 2, attempts: 1, complexity: .low), policy: policy)
        #expect(half.value == 0.5)
        #expect(half.decision == .review(.high))
        let most = ConfidenceScore(ConfidenceInput(validatorsPassed: 3, validatorsRun: 4, attempts: 1, complexity: .low), policy: policy)
        #expect(most.decision == .review(.medium))
    }

    @Test("retries lower R by a third each with three attempts", arguments: [(1, 1.0), (2, 2.0 / 3), (3, 1.0 / 3)])
    func retryComponent(_ sample: (attempts: Int, retries: Double)) {
        let score = ConfidenceScore(ConfidenceInput(validatorsPassed: 1, validatorsRun: 1, attempts: sample.attempts, complexity: .low))
        #expect(abs(score.retries - sample.retries) < 1e-12)
    }
}
