import Foundation
import JSON
import PlanCore
import Postgres
import Store
import Testing
import TestSupport

/// `PlanTreeReader` builds the plan from its rows; the executor used to get the same plan by parsing
/// the JSON that `PlanQueries.snapshot` builds. Both must agree on every seeded plan.
@Suite(.dedicatedThreads) struct PlanTreeReaderTests {
    let connection: Connection
    let owner: UUID

    init() throws {
        connection = try Connection(try TestDatabase.migrated())
        owner = try TestDatabase.insertUser("reader", on: connection)
    }

    /// A plan row with `plan`'s tree, written as the generator writes it.
    func seed(_ plan: MasterPlan) throws -> UUID {
        try connection.transaction { c in
            let planID = try c.query("INSERT INTO masterplans (owner_id, request, budget_usd) VALUES ($1, 'a request', 5) RETURNING id",
                                     [owner]).first!.decode(UUID.self, 0)
            try PlanTreeWriter(c).write(plan, planID: planID)
            return planID
        }
    }

    static let todoAnswer = """
        {"project_name":"todo-api","summary":"A small todo API","tech_stack":{"language":"python","framework":"FastAPI","database":null,"test_command":"python3 -m pytest -q","other":["pydantic","uvicorn"]},
         "phases":[{"number":1,"kind":"setup","name":"Setup","description":"Scaffold","milestones":[{"number":1,"name":"Skeleton","description":"","tasks":[
           {"number":1,"name":"Package","description":"Create the package","complexity":"low","depends_on":[],"files":["todo/__init__.py"],
            "subtasks":[{"number":1,"name":"init","description":"Write __init__"}],"acceptance":[{"priority":"must","criterion":"todo imports"}]},
           {"number":3,"name":"Store","description":"In-memory store","complexity":"medium","depends_on":[1],"files":["todo/store.py","todo/ids.py"],
            "subtasks":[{"number":2,"name":"list","description":"list()"},{"number":1,"name":"add","description":"add()"}],
            "acceptance":[{"priority":"should","criterion":"list keeps order"},{"priority":"must","criterion":"add returns an id"}]}
         ]}]},
          {"number":2,"kind":"core","name":"API","description":"Routes","milestones":[{"number":2,"name":"Routes","description":"HTTP","tasks":[
           {"number":2,"name":"Routes","description":"GET and POST /todos","complexity":"high","depends_on":[3,1],"files":["todo/api.py","todo/store.py"],
            "subtasks":[],"acceptance":[]}]},
           {"number":1,"name":"Docs","description":"How to run it","tasks":[
           {"number":4,"name":"README","description":"","complexity":"critical","depends_on":[2],"files":["README.md"],"subtasks":[],"acceptance":[]}]}
         ]}]}
        """

    static let seededPlans: [(String, MasterPlan)] = [
        ("todo", try! PlanParser().parsePlan(todoAnswer).plan),
        ("synthetic 300 tasks", SyntheticPlanGenerator(taskCount: 300, subtasksPerTask: 3, seed: 7).generate()),
        ("synthetic 40 tasks, 4 files each, no subtasks",
         SyntheticPlanGenerator(taskCount: 40, subtasksPerTask: 0, filesPerTask: 4...4, maxDependencies: 6, seed: 11).generate()),
    ]

    @Test(arguments: 0..<seededPlans.count)
    func theRowLoadedPlanEqualsTheOneParsedFromTheSnapshot(_ index: Int) throws {
        let (name, plan) = Self.seededPlans[index]
        let planID = try seed(plan)
        let snapshot = try #require(try PlanQueries(connection).snapshot(id: planID))
        let parsed = try PlanParser().parsePlan(snapshot.jsonText)

        let loaded = try #require(try PlanTreeReader(connection).plan(id: planID))
        #expect(loaded == parsed.plan, "\(name)")
        let validated = try PlanValidator().validateStored(loaded)
        #expect(validated.tasks == parsed.tasks, "\(name)")
        #expect(validated.executionOrder == parsed.executionOrder, "\(name)")
        #expect(ExecutionPlan(validated).atoms == ExecutionPlan(parsed).atoms, "\(name)")
    }

    @Test func dependenciesComeBackInAscendingOrderAndCriteriaInTheirOrder() throws {
        let planID = try seed(Self.seededPlans[0].1)
        let loaded = try #require(try PlanTreeReader(connection).plan(id: planID))
        #expect(loaded.task(number: 2)?.dependsOn == [1, 3])
        #expect(loaded.task(number: 3)?.acceptance.map(\.text) == ["list keeps order", "add returns an id"])
        #expect(loaded.task(number: 3)?.subtasks.map(\.number) == [1, 2])
        #expect(loaded.phases.map { $0.milestones.map(\.number) } == [[1], [1, 2]])
        #expect(loaded.techStack == TechStack(language: "python", framework: "FastAPI", database: nil,
                                              testCommand: "python3 -m pytest -q", other: ["pydantic", "uvicorn"]))
    }

    @Test func aPlanThatDoesNotExistReadsAsNil() throws {
        #expect(try PlanTreeReader(connection).plan(id: UUID()) == nil)
    }

    @Test func aStoredTechStackWithAnUnknownMemberIsAProblemAtTechStack() throws {
        let planID = try seed(Self.seededPlans[0].1)
        try connection.execute("UPDATE masterplans SET tech_stack = tech_stack || '{\"runtime\": \"3.12\"}' WHERE id = $1", [planID])
        let problems = try #require(throws: PlanProblems.self) { try PlanTreeReader(self.connection).plan(id: planID) }
        #expect(problems.problems.map(\.kind) == [.unknownField])
        #expect(problems.problems.first?.path.description.hasPrefix("tech_stack") == true)
    }

    /// The rules that keep execution safe still hold for a plan read from rows; the count bounds do not.
    @Test func storedValidationRefusesACycleAndAnUnsafePathButNotCounts() throws {
        var cyclic = Self.seededPlans[0].1
        cyclic.updateTask(number: 1) { $0.dependsOn = [4] }
        let cyclicLoaded = try #require(try PlanTreeReader(connection).plan(id: try seed(cyclic)))
        let cycle = try #require(throws: PlanProblems.self) { try PlanValidator().validateStored(cyclicLoaded) }
        #expect(cycle.problems.map(\.kind).contains(.dependencyCycle))

        // The tasks table refuses such a path itself (its tasks_files_check trigger); the validator
        // does not rely on that.
        var unsafe = try #require(try PlanTreeReader(connection).plan(id: try seed(Self.seededPlans[0].1)))
        unsafe.updateTask(number: 4) { $0.files = ["../outside.md"] }
        let path = try #require(throws: PlanProblems.self) { try PlanValidator().validateStored(unsafe) }
        #expect(path.problems.map(\.kind) == [.unsafePath])

        var wide = Self.seededPlans[0].1
        let files = (1...(PlanLimits.default.maxFilesPerTask + 5)).map { "docs/page\($0).md" }
        wide.updateTask(number: 4) { $0.files = files }
        let wideLoaded = try #require(try PlanTreeReader(connection).plan(id: try seed(wide)))
        #expect(throws: PlanProblems.self) { try PlanValidator().validate(wideLoaded) }
        #expect(try PlanValidator().validateStored(wideLoaded).task(number: 4)?.files == files)
    }
}
