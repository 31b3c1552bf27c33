import JSON
import Testing
@testable import PlanCore

/// The answer schemas and validation hold a document to the same bounds: what one refuses, the other
/// refuses at the same place, and what one accepts, the other accepts.
@Suite("Schema bounds agree with validation")
struct PlanSchemaBoundsTests {
    /// A PlanCore path as the JSON pointer the schema validator reports.
    static func pointer(_ path: JSONPath) -> String {
        path.components.map { component in
            switch component {
            case .key(let key): "/" + key.replacing("~", with: "~0").replacing("/", with: "~1")
            case .index(let index): "/\(index)"
            }
        }.joined()
    }

    static func schemaViolations(_ document: JSONValue, _ schema: JSONValue) throws -> [JSONSchemaViolation] {
        try JSONSchemaValidator.violations(of: document, against: schema, limit: 100)
    }

    static func planProblems(_ document: JSONValue, _ limits: PlanLimits) -> [PlanProblem] {
        do {
            _ = try PlanParser(limits: limits).parsePlan(document.jsonText)
            return []
        } catch {
            return error.problems
        }
    }

    static func changed(_ path: String, to value: JSONValue?) -> JSONValue {
        SamplePlan.json.setting(JSONPath(parsing: path).components[...], to: value)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var limits: PlanLimits = .default
        var document: JSONValue = SamplePlan.json
        /// The first violation the schema validator reports, as sent to a model.
        var schemaSays: String
        /// Words the first PlanCore problem holds (the counts and the limit).
        var validationSays: String
        var testDescription: String { name }
    }

    static let t1 = "phases[0].milestones[0].tasks[0]"
    static let t7 = "phases[2].milestones[0].tasks[0]"

    static let cases: [Case] = [
        Case(name: "tasks in a milestone", limits: PlanLimits(maxTasksPerMilestone: 3),
             schemaSays: "/phases/1/milestones/0/tasks: 4 items, at most 3 allowed",
             validationSays: "the milestone has 4 tasks, more than the limit of 3"),
        Case(name: "files of a task", limits: PlanLimits(maxFilesPerTask: 1),
             schemaSays: "/phases/0/milestones/0/tasks/0/files: 2 items, at most 1 allowed",
             validationSays: "the task writes 2 files, more than the limit of 1"),
        Case(name: "subtasks of a task", limits: PlanLimits(maxSubtasksPerTask: 1),
             schemaSays: "/phases/1/milestones/0/tasks/1/subtasks: 2 items, at most 1 allowed",
             validationSays: "the task has 2 subtasks, more than the limit of 1"),
        Case(name: "criteria of a task", limits: PlanLimits(maxCriteriaPerTask: 1),
             schemaSays: "/phases/1/milestones/0/tasks/2/acceptance: 2 items, at most 1 allowed",
             validationSays: "the task has 2 acceptance criteria, more than the limit of 1"),
        Case(name: "dependencies of a task", limits: PlanLimits(maxDependenciesPerTask: 1),
             schemaSays: "/phases/1/milestones/0/tasks/2/depends_on: 2 items, at most 1 allowed",
             validationSays: "the task has 2 dependencies, more than the limit of 1"),
        Case(name: "phases", limits: PlanLimits(maxPhases: 2),
             schemaSays: "/phases: 3 items, at most 2 allowed", validationSays: "the plan has 3 phases, more than the limit of 2"),
        Case(name: "other tools of the tech stack", limits: PlanLimits(maxListItems: 1),
             schemaSays: "/tech_stack/other: 2 items, at most 1 allowed", validationSays: "the list has 2 entries, more than the limit of 1"),
        Case(name: "file path length", limits: PlanLimits(maxPathLength: 14),
             schemaSays: "/phases/0/milestones/0/tasks/0/files/1: 15 characters, at most 14 allowed",
             validationSays: "\"app/__init__.py\" is 15 characters long, more than the limit of 14"),
        Case(name: "text length in characters beyond the BMP", limits: PlanLimits(maxTextLength: 40),
             document: changed("summary", to: .string(String(repeating: "😀", count: 41))),
             schemaSays: "/summary: 41 characters, at most 40 allowed", validationSays: "is 41 characters long, more than the limit of 40"),
        Case(name: "an empty name", document: changed("project_name", to: ""),
             schemaSays: "/project_name: 0 characters, at least 1 required", validationSays: "must not be empty"),
        Case(name: "a task without files", document: changed("\(t7).files", to: []),
             schemaSays: "/phases/2/milestones/0/tasks/0/files: 0 items, at least 1 required",
             validationSays: "a task must name at least one file"),
        Case(name: "a milestone without tasks", document: changed("phases[2].milestones[0].tasks", to: []),
             schemaSays: "/phases/2/milestones/0/tasks: 0 items, at least 1 required",
             validationSays: "a milestone needs at least one task"),
        Case(name: "a number below 1", document: changed("phases[0].number", to: 0),
             schemaSays: "/phases/0/number: 0 is less than the minimum of 1", validationSays: "phase numbers are positive integers, found 0"),
        Case(name: "a number beyond the database's integer", document: changed("\(t7).number", to: 3_000_000_000),
             schemaSays: "/phases/2/milestones/0/tasks/0/number: 3000000000 is more than the maximum of 2147483647",
             validationSays: "task number 3000000000 is more than the largest allowed, 2147483647"),
    ]

    @Test("a plan over a bound is refused by the schema and by validation, at the same paths", arguments: cases)
    func bothRefuse(_ sample: Case) throws {
        let schema = PlanJSONSchema.plan(limits: sample.limits)
        let violations = try Self.schemaViolations(sample.document, schema)
        let problems = Self.planProblems(sample.document, sample.limits)
        #expect(violations.first?.description == sample.schemaSays)
        #expect(problems.first?.message.contains(sample.validationSays) == true, "\(problems.map(\.description))")
        #expect(Set(violations.map(\.path)) == Set(problems.map { Self.pointer($0.path) }),
                "schema: \(violations.map(\.description)); validation: \(problems.map(\.description))")
    }

    @Test("the documents at the limits are accepted by both", arguments: [
        (PlanLimits(maxPhases: 3, maxTasksPerMilestone: 4, maxSubtasksPerTask: 2, maxFilesPerTask: 2, maxDependenciesPerTask: 2,
                    maxCriteriaPerTask: 2, maxListItems: 2, maxPathLength: 15), SamplePlan.json),
        // 60 characters of 4 bytes each: 240 bytes, within a limit of 60 because limits count code points.
        (PlanLimits(maxTextLength: 60), changed("summary", to: .string(String(repeating: "😀", count: 60)))),
        (PlanLimits.default, changed("\(t7).number", to: .int(Int64(Int32.max)))),
    ] as [(PlanLimits, JSONValue)])
    func bothAccept(limits: PlanLimits, document: JSONValue) throws {
        #expect(try Self.schemaViolations(document, PlanJSONSchema.plan(limits: limits)).isEmpty)
        #expect(Self.planProblems(document, limits).isEmpty)
    }

    @Test("a discovery's lists and an acceptance-test answer are held to their bounds by both")
    func discoveryAndTests() throws {
        let limits = PlanLimits(maxListItems: 1, maxTests: 4)
        let discovery = try PlanParser().jsonObject(in: DiscoveryTests.text)
        let violations = try Self.schemaViolations(discovery, PlanJSONSchema.discovery(limits: limits))
        #expect(violations.first?.description == "/bounded_contexts: 2 items, at most 1 allowed")
        let problems: [PlanProblem]
        do {
            _ = try PlanParser(limits: limits).parseDiscovery(DiscoveryTests.text)
            problems = []
        } catch {
            problems = error.problems
        }
        #expect(Set(violations.map(\.path)) == Set(problems.map { Self.pointer($0.path) }))
        #expect(Set(violations.map(\.path)).isSuperset(of: ["/bounded_contexts", "/bounded_contexts/0/responsibilities"]))

        let tests = JSONValue.object(["tests": .array(AcceptanceTestTests.complete)])
        let testViolations = try Self.schemaViolations(tests, PlanJSONSchema.acceptanceTests(limits: limits))
        #expect(testViolations.map(\.description) == ["/tests: 5 items, at most 4 allowed"])
        let error = try #require(throws: PlanProblems.self) {
            try PlanParser(limits: limits).parseAcceptanceTests(tests.jsonText, for: SamplePlan.validated)
        }
        #expect(error.problems.map(\.description) == ["tests: the answer has 5 tests, more than the limit of 4"])
    }

    @Test("the sample documents conform to the default schemas")
    func samplesConform() throws {
        #expect(try Self.schemaViolations(SamplePlan.json, PlanJSONSchema.plan).isEmpty)
        #expect(try Self.schemaViolations(try PlanParser().jsonObject(in: DiscoveryTests.text), PlanJSONSchema.discovery).isEmpty)
        #expect(try Self.schemaViolations(.object(["tests": .array(AcceptanceTestTests.complete)]), PlanJSONSchema.acceptanceTests).isEmpty)
    }

    @Test("test code over the file limit is refused by validation, in bytes")
    func codeOverTheFileLimit() throws {
        var test = AcceptanceTestTests.complete[0]
        test = test.setting([.key("code")], to: .string("# é\n" + String(repeating: "x", count: 60)))
        let limits = PlanLimits(maxFileBytes: 64)
        let error = try #require(throws: PlanProblems.self) {
            try PlanParser(limits: limits).parseAcceptanceTests(JSONValue.object(["tests": .array([test] + AcceptanceTestTests.complete.dropFirst())]).jsonText,
                                                                for: SamplePlan.validated)
        }
        #expect(error.problems.map(\.description) == ["tests[0].code: is 65 bytes long, more than the limit of 64 for a file"])
    }
}
