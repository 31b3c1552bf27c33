import JSON
import Testing
@testable import PlanCore

@Suite("Plan parsing")
struct PlanParserTests {
    @Test("the sample plan parses into the tree it describes")
    func samplePlan() throws {
        let validated = try PlanParser().parsePlan(SamplePlan.text)
        let plan = validated.plan
        #expect(plan.projectName == "Todo API")
        #expect(plan.techStack == TechStack(language: "Python 3.11", framework: "FastAPI", database: "PostgreSQL",
                                            testCommand: "pytest -q", other: ["SQLAlchemy", "pydantic"]))
        #expect(plan.phases.map(\.kind) == [.setup, .core, .polish])
        #expect(validated.tasks.map(\.number) == [1, 2, 3, 4, 5, 6, 7])
        let auth = try #require(validated.task(number: 4))
        #expect(auth.complexity == .high)
        #expect(auth.dependsOn == [3])
        #expect(auth.files == ["app/auth.py", "app/main.py"])
        #expect(auth.subtasks.map(\.name) == ["Hashing", "Tokens"])
        #expect(auth.acceptance == [AcceptanceCriterion(priority: .must, text: "POST /auth/login with a wrong password answers 401.")])
        #expect(validated.subtaskCount == 3)
        #expect(validated.criterionCount(.must) == 4)
        #expect(validated.criterionCount(.should) == 3)
    }

    @Test("null framework and database are read as absent")
    func nullableMembers() throws {
        let answer = SamplePlan.json.setting(JSONPath(parsing: "tech_stack.framework").components[...], to: .null)
            .setting(JSONPath(parsing: "tech_stack.database").components[...], to: .null).jsonText
        let plan = try PlanParser().parsePlan(answer).plan
        #expect(plan.techStack.framework == nil)
        #expect(plan.techStack.database == nil)
        #expect(plan.techStack.jsonValue["framework"] == .null)
    }

    @Test("a plan survives JSON and back unchanged")
    func roundTrip() throws {
        let plan = SamplePlan.validated.plan
        #expect(try MasterPlan(json: plan.jsonValue) == plan)
        #expect(try PlanParser().parsePlan(plan.jsonValue.serialized(.pretty)).plan == plan)
        #expect(plan.jsonValue == SamplePlan.json)
    }

    @Test("MasterPlan(json:) is strict about the schema but leaves semantics to the validator")
    func schemaOnlyInitializer() throws {
        let cyclic = SamplePlan.json.setting(JSONPath(parsing: "\(MalformedPlanCorpus.t3).depends_on").components[...], to: [5])
        let plan = try MasterPlan(json: cyclic)
        #expect(plan.task(number: 3)?.dependsOn == [5])
        #expect(PlanValidator().problems(in: plan).map(\.kind) == [.dependencyCycle])
        let error = try #require(throws: PlanProblems.self) { try MasterPlan(json: ["project_name": 1]) }
        #expect(error.problems.map(\.path.description) == ["project_name", "summary", "tech_stack", "phases"])
    }

    @Test("an unreadable element defers semantic problems instead of reporting them at shifted positions")
    func lostElementsDeferSemantics() throws {
        // Task 3 has no readable number, so a dependency on 3 must not be reported as missing.
        let answer = MalformedPlanCorpus.change("\(MalformedPlanCorpus.t3).number", "three")
        let error = try #require(throws: PlanProblems.self) { try PlanParser().parsePlan(answer) }
        #expect(error.problems.map(\.kind) == [.wrongType])
        #expect(!error.description.contains("does not exist"))
    }

    @Test("repair instructions list every problem with its path and ask for the whole object")
    func repairInstructions() throws {
        let answer = SamplePlan.json.setting(JSONPath(parsing: "summary").components[...], to: 1)
            .setting(JSONPath(parsing: "\(MalformedPlanCorpus.t6).depends_on[0]").components[...], to: 41).jsonText
        let error = try #require(throws: PlanProblems.self) { try PlanParser().parsePlan(answer) }
        let text = error.repairInstructions()
        #expect(text.hasPrefix("Your previous answer cannot be used."))
        #expect(text.contains("answer again with the whole corrected JSON object only"))
        #expect(text.contains("- summary: expected a string, found the integer 1"))
        #expect(text.contains("- phases[1].milestones[0].tasks[3].depends_on[0]: task 41 does not exist"))
    }

    @Test("repair instructions cap the list and count the rest")
    func repairInstructionsCap() {
        let problems = PlanProblems((0..<120).map { PlanProblem(.unsafePath, at: JSONPath.root.appending("files").appending($0), "bad") })
        let text = problems.repairInstructions(maxListed: 50)
        #expect(text.split(separator: "\n").count == 52)
        #expect(text.hasSuffix("- … and 70 more problems of the same kinds."))
        #expect(problems.description.hasPrefix("120 problems:\n- files[0]: bad"))
    }

    @Test("answers over the size limit are refused before parsing")
    func sizeLimit() throws {
        let parser = PlanParser(options: PlanParseOptions(maxAnswerBytes: 100))
        let error = try #require(throws: PlanProblems.self) { try parser.parsePlan(SamplePlan.text) }
        #expect(error.problems.count == 1)
        #expect(error.problems[0].message.hasPrefix("the answer is \(SamplePlan.text.utf8.count) bytes, more than the limit of 100"))
    }

    @Test("raw control characters inside strings are accepted only when the options allow them")
    func controlCharactersInStrings() throws {
        let answer = SamplePlan.text.replacingFirst("How to run it.", with: "How to\trun\nit.")
        #expect(try PlanParser().parsePlan(answer).task(number: 7)?.description == "How to\trun\nit.")
        let strict = PlanParser(options: PlanParseOptions(allowControlCharactersInStrings: false))
        let error = try #require(throws: PlanProblems.self) { try strict.parsePlan(answer) }
        #expect(error.problems.first?.message.contains("control character U+9 inside a string") == true)
    }

    @Test("configured limits change what is accepted")
    func configuredLimits() throws {
        var limits = PlanLimits.default
        limits.maxTasks = 5
        let error = try #require(throws: PlanProblems.self) { try PlanParser(limits: limits).parsePlan(SamplePlan.text) }
        #expect(error.problems.map(\.description) == ["phases: the plan has 7 tasks, more than the limit of 5; plan fewer, larger tasks"])
    }
}

extension String {
    /// The string with the first occurrence of `target` replaced.
    func replacingFirst(_ target: String, with replacement: String) -> String {
        replacing(target, with: replacement, maxReplacements: 1)
    }
}
