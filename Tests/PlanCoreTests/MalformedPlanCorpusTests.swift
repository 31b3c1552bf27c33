import Testing
@testable import PlanCore

@Suite("Malformed plan corpus")
struct MalformedPlanCorpusTests {
    @Test("the corpus is large enough to mean something")
    func corpusSize() {
        #expect(MalformedPlanCorpus.all.count >= 30)
    }

    @Test("each malformed plan gives exactly its expected problems", arguments: MalformedPlanCorpus.all)
    func malformedPlan(_ sample: MalformedPlan) throws {
        let error = try #require(throws: PlanProblems.self) { try PlanParser().parsePlan(sample.answer) }
        #expect(error.problems.count == sample.expected.count, "got: \(error.description)")
        for (problem, expected) in zip(error.problems, sample.expected) {
            #expect(problem.kind == expected.kind, "\(problem)")
            #expect(problem.path.description == expected.path, "\(problem)")
            #expect(problem.message.contains(expected.message), "\(problem)")
        }
    }

    @Test("the issue's example renders exactly")
    func issueExample() throws {
        let answer = MalformedPlanCorpus.change("\(MalformedPlanCorpus.t6).depends_on[0]", 41)
        let error = try #require(throws: PlanProblems.self) { try PlanParser().parsePlan(answer) }
        #expect(error.problems.map(\.description) == ["phases[1].milestones[0].tasks[3].depends_on[0]: task 41 does not exist"])
    }
}
