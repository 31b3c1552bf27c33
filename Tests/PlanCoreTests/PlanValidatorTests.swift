import Testing
@testable import PlanCore

@Suite("Plan validation")
struct PlanValidatorTests {
    @Test("a valid plan yields its tasks in execution order, dependencies first and ties by number")
    func executionOrder() throws {
        // Task 1 depends on 4, which the planner numbered later: 4 must still come first.
        let plan = try TestPlans.validated([
            TestPlans.task(1, dependsOn: [4]), TestPlans.task(2), TestPlans.task(3, dependsOn: [1]), TestPlans.task(4),
        ])
        #expect(plan.executionOrder.map { plan.tasks[$0].number } == [2, 4, 1, 3])
    }

    @Test("a cycle is named in order from its smallest member, with the path of the edge that closes it")
    func cycleInOrder() throws {
        let plan = TestPlans.plan([TestPlans.task(12, dependsOn: [15]), TestPlans.task(15, dependsOn: [12])])
        let problems = PlanValidator().problems(in: plan)
        #expect(problems.map(\.description) == [
            "\(TestPlans.taskPath(0)).depends_on[0]: dependency cycle 12 → 15 → 12: each task depends on the next, so none of them can ever start; remove one of these dependencies",
        ])
        #expect(throws: PlanProblems.self) { try PlanValidator().validate(plan) }
    }

    @Test("separate cycles are each reported, ordered by their smallest task")
    func separateCycles() {
        let plan = TestPlans.plan([
            TestPlans.task(7, dependsOn: [8]), TestPlans.task(8, dependsOn: [7]),
            TestPlans.task(2, dependsOn: [3]), TestPlans.task(3, dependsOn: [4]), TestPlans.task(4, dependsOn: [2]),
            TestPlans.task(5, dependsOn: [2, 7]),
        ])
        let cycles = TaskDependencyGraph(tasks: plan.tasks).cycles()
        #expect(cycles.map(\.path) == [[2, 3, 4, 2], [7, 8, 7]])
        #expect(cycles.map(\.members) == [[2, 3, 4], [7, 8]])
        #expect(PlanValidator().problems(in: plan).map(\.kind) == [.dependencyCycle, .dependencyCycle])
    }

    @Test("the shortest circle is named and the rest of the tangle is listed")
    func tangle() {
        let plan = TestPlans.plan([
            TestPlans.task(1, dependsOn: [2]), TestPlans.task(2, dependsOn: [3]), TestPlans.task(3, dependsOn: [4, 1]),
            TestPlans.task(4, dependsOn: [2]),
        ])
        let cycle = TaskDependencyGraph(tasks: plan.tasks).cycles()
        #expect(cycle == [DependencyCycle(path: [1, 2, 3, 1], members: [1, 2, 3, 4])])
        #expect(PlanValidator().problems(in: plan).first?.message.hasSuffix("(task 4 is caught in the same tangle)") == true)
    }

    @Test("a long chain is checked without recursion")
    func longChain() throws {
        let tasks = (1...5_000).map { TestPlans.task($0, dependsOn: $0 > 1 ? [$0 - 1] : [5_000]) }
        var limits = PlanLimits.default
        limits.maxTasks = 5_000
        limits.maxTasksPerMilestone = 5_000
        let problems = PlanValidator(limits: limits).problems(in: TestPlans.plan(tasks))
        #expect(problems.count == 1)
        #expect(problems.first?.message.hasPrefix("dependency cycle 1 → 5000 → 4999") == true)
    }

    @Test("counts outside the configured bounds are reported", arguments: [
        (PlanLimits(maxFilesPerTask: 1), "the task writes 2 files, more than the limit of 1; split it"),
        (PlanLimits(maxSubtasksPerTask: 1), "the task has 2 subtasks, more than the limit of 1"),
        (PlanLimits(maxSubtasks: 2), "the plan has 3 subtasks, more than the limit of 2"),
        (PlanLimits(maxAtoms: 8), "the plan writes 10 task files (atoms), more than the limit of 8"),
        (PlanLimits(maxDependenciesPerTask: 1), "the task has 2 dependencies, more than the limit of 1"),
        (PlanLimits(maxCriteriaPerTask: 1), "the task has 2 acceptance criteria, more than the limit of 1"),
        (PlanLimits(minTasks: 8), "the plan has 7 tasks, fewer than the minimum of 8"),
        (PlanLimits(maxPhases: 2), "the plan has 3 phases, more than the limit of 2"),
        (PlanLimits(maxTextLength: 40), "is 57 characters long, more than the limit of 40"),
        (PlanLimits(maxPathLength: 12), "\"pyproject.toml\" is 14 characters long, more than the limit of 12"),
    ])
    func bounds(_ sample: (limits: PlanLimits, message: String)) {
        let problems = PlanValidator(limits: sample.limits).problems(in: SamplePlan.validated.plan)
        #expect(problems.contains { $0.message.contains(sample.message) }, "\(problems)")
        #expect(PlanValidator().problems(in: SamplePlan.validated.plan).isEmpty)
    }

    @Test("an empty plan is one problem, not a cascade")
    func emptyPlan() {
        let plan = MasterPlan(projectName: "x", summary: "y", techStack: TechStack(language: "Python", testCommand: "pytest -q"), phases: [])
        #expect(PlanValidator().problems(in: plan).map(\.description) == ["phases: the plan has no tasks"])
    }

    static let supported = "supported: Python with pytest (\"python3 -m pytest -q\") or unittest (\"python3 -m unittest\"); Node.js with node:test (\"node --test\"); Go with go test (\"go test ./...\")"

    @Test("a stack MasterPlan cannot run is refused at review with the supported ones", arguments: [
        ("Rust", "cargo test", "tech_stack.test_command: the test command \"cargo test\" is not one MasterPlan can run; \(supported)"),
        ("Python", "go test ./...", "tech_stack.language: the language \"Python\" is not what the test command \"go test ./...\" runs (Go); \(supported)"),
        ("JavaScript", "npx jest", "tech_stack.test_command: the test command \"npx jest\" is not one MasterPlan can run; \(supported)"),
        ("TypeScript", "node --test", "tech_stack.language: TypeScript is not supported (Node.js runs no TypeScript without a compile step, and the machine has no Node.js type declarations for tsc): write the project in JavaScript; the language \"TypeScript\" is not what the test command \"node --test\" runs (Node.js); \(supported)"),
        ("Python", "pytest -q && rm -rf /", "tech_stack.test_command: the test command \"pytest -q && rm -rf /\" is not one MasterPlan can run; \(supported)"),
        ("Python 3", "node --test", "tech_stack.language: the language \"Python 3\" is not what the test command \"node --test\" runs (Node.js); \(supported)"),
    ])
    func unsupportedStack(_ stack: (language: String, command: String, problem: String)) {
        var plan = SamplePlan.validated.plan
        plan.techStack = TechStack(language: stack.language, testCommand: stack.command)
        #expect(PlanValidator().problems(in: plan).map(\.description) == [stack.problem])
        #expect(throws: PlanProblems.self) { try PlanValidator().validateStored(plan) }
    }

    @Test("a task may not write a Go test file")
    func goTestFileInATask() {
        var plan = SamplePlan.validated.plan
        plan.techStack = TechStack(language: "Go", testCommand: "go test ./...")
        #expect(plan.updateTask(number: 7) { $0.files = ["README.md", "app/app_test.go"] })
        #expect(PlanValidator().problems(in: plan).map(\.description) == [
            "phases[2].milestones[0].tasks[0].files[1]: \"app/app_test.go\" is a Go test file; tasks do not write tests: the acceptance tests are generated from the criteria and run with the engine's own TestMain",
        ])
    }

    @Test("each supported stack passes with its language", arguments: [
        ("Python 3.11", "python3 -m pytest -q"), ("JavaScript (Node.js 18)", "node --test"), ("Node.js", "npm test"), ("JS", "node --test"),
        ("Go 1.19", "go test ./..."), ("Golang", "go test -v ./..."),
    ])
    func supportedStack(_ stack: (language: String, command: String)) {
        var plan = SamplePlan.validated.plan
        plan.techStack = TechStack(language: stack.language, testCommand: stack.command)
        #expect(PlanValidator().problems(in: plan).isEmpty)
    }

    @Test("edits through updateTask are validated again")
    func editedPlan() throws {
        var plan = SamplePlan.validated.plan
        #expect(plan.updateTask(number: 7) { $0.files = ["../escape.md"] })
        #expect(!plan.updateTask(number: 99) { $0.name = "none" })
        #expect(PlanValidator().problems(in: plan).map(\.description) == [
            "phases[2].milestones[0].tasks[0].files[0]: \"../escape.md\" uses \"..\" to leave its folder; paths must stay inside the project",
        ])
    }

    @Test("task files that would configure or shadow the test runner are refused with what to do")
    func runnerFiles() {
        let plan = TestPlans.plan([
            TestPlans.task(1, files: ["app/main.py", "tests/conftest.py", "sitecustomize.py"]),
            TestPlans.task(2, files: ["pytest.ini", "app/hooks.pth", "_pytest/runner.py", "pyproject.toml"]),
        ])
        #expect(PlanValidator().problems(in: plan).map(\.description) == [
            "\(TestPlans.taskPath(0)).files[1]: \"tests/conftest.py\" would configure the test runner; acceptance tests run with the engine's own setup — name the file differently",
            "\(TestPlans.taskPath(0)).files[2]: \"sitecustomize.py\" would run when the Python interpreter starts, in every process and before any test — name the module differently",
            "\(TestPlans.taskPath(1)).files[0]: \"pytest.ini\" would configure the test runner; acceptance tests run with the engine's own setup — leave runner configuration out of the project",
            "\(TestPlans.taskPath(1)).files[1]: \"app/hooks.pth\" would run when the Python interpreter starts, in every process and before any test — name the file differently",
            "\(TestPlans.taskPath(1)).files[2]: \"_pytest/runner.py\" would be imported instead of the test runner's own module _pytest — name the module differently",
        ])
        #expect(PlanValidator().problems(in: plan).allSatisfy { $0.kind == .unsafePath })
    }

    @Test("blank framework and database are refused, absent ones are fine")
    func optionalStackMembers() {
        var plan = SamplePlan.validated.plan
        plan.techStack.framework = nil
        plan.techStack.database = " "
        #expect(PlanValidator().problems(in: plan).map(\.description) == ["tech_stack.database: must not be empty"])
    }
}
