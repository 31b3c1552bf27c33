import API
import JSON
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct ProblemTests {
    @Test func rendersRFC9457Members() throws {
        let problem = Problem(status: 409, type: "illegal-transition", title: "This plan cannot be approved now.",
                              detail: "The plan is executing.", extra: ["allowed_actions": ["pause", "cancel"]])
        #expect(try problem.json.serialized() == #"{"type":"https://masterplan.dev/problems/illegal-transition","title":"This plan cannot be approved now.","status":409,"detail":"The plan is executing.","allowed_actions":["pause","cancel"]}"#)
    }
}
