import Testing
@testable import PlanCore

@Suite("Synthetic plans")
struct SyntheticPlanTests {
    @Test("the benchmark's plan is valid, as large as it claims, and the same for the same seed")
    func benchmarkPlan() throws {
        let plan = SyntheticPlanGenerator().generate()
        let validated = try PlanValidator().validate(plan)
        #expect(validated.tasks.count == 1_000)
        #expect(validated.subtaskCount == 5_000)
        #expect(plan == SyntheticPlanGenerator().generate())
        #expect(plan != SyntheticPlanGenerator(seed: 43).generate())
        let execution = ExecutionPlan(validated)
        #expect(execution.atoms.count >= 1_000)
        #expect(execution.waves.count > 10, "dependencies make the plan deep, not one wide wave")
    }

    @Test("a generated plan's text parses back to the same plan")
    func textRoundTrip() throws {
        let plan = SyntheticPlanGenerator(taskCount: 120, subtasksPerTask: 3, seed: 9).generate()
        #expect(try PlanParser().parsePlan(plan.jsonValue.serialized(.pretty)).plan == plan)
    }

    @Test("small task counts still fill phases and milestones without empty ones", arguments: [1, 2, 7, 16])
    func smallPlans(_ count: Int) throws {
        let plan = SyntheticPlanGenerator(taskCount: count, seed: 1).generate()
        #expect(PlanValidator().problems(in: plan).isEmpty)
        #expect(plan.tasks.count == count)
    }
}
