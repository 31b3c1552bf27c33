import LLM
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct LLMRequestTests {
    @Test func purposesMatchTheLLMCallsCheckConstraint() {
        // Migrations/0003: llm_calls.purpose accepts exactly these (plus 'estimate', which is not a model call).
        #expect(Set(LLMRequest.Purpose.allCases.map(\.rawValue)) == [
            "discovery", "masterplan", "plan_repair", "acceptance_tests", "atom", "gate_repair", "review_suggestions", "chat",
        ])
    }
}
