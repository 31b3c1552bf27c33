import Foundation
import JSON
import PlanCore
import Postgres
import Store
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct PlanWriterTests {
    let connection: Connection
    let owner: UUID

    init() throws {
        connection = try Connection(try TestDatabase.migrated())
        owner = try TestDatabase.insertUser("writer", on: connection)
    }

    func newPlan() throws -> UUID {
        try TodoPlanFixture.newPlan(owner: owner, on: connection)
    }

    static let answer = """
        {"project_name":"todo-api","summary":"A small todo API","tech_stack":{"language":"python","framework":null,"database":null,"test_command":"python3 -m pytest -q","other":[]},
         "phases":[{"number":1,"kind":"setup","name":"Setup","description":"Scaffold","milestones":[{"number":1,"name":"Skeleton","description":"Layout","tasks":[
           {"number":1,"name":"Package","description":"Create the package","complexity":"low","depends_on":[],"files":["todo/__init__.py"],
            "subtasks":[{"number":1,"name":"init","description":"Write __init__"}],"acceptance":[{"priority":"must","criterion":"todo imports"}]},
           {"number":2,"name":"Store","description":"In-memory store","complexity":"medium","depends_on":[1],"files":["todo/store.py"],
            "subtasks":[{"number":1,"name":"add","description":"add()"},{"number":2,"name":"list","description":"list()"}],
            "acceptance":[{"priority":"must","criterion":"add returns an id"},{"priority":"should","criterion":"list keeps order"}]}
         ]}]}]}
        """

    func validated() throws -> ValidatedPlan { try PlanParser().parsePlan(Self.answer) }

    let tests = [
        AcceptanceTest(name: "test_store_add", priority: .must, covers: [2], file: "tests/acceptance/test_store.py",
                       code: "def test_store_add():\n    assert True is not False\n"),
    ]

    @Test func storesTheWholeTreeAsVersionOneAndMovesToDraft() throws {
        let planID = try newPlan()
        let listener = try Connection(try TestDatabase.cluster().conninfo(database: currentDatabase()))
        try listener.listen("masterplan_events")
        let version = try PlanWriter(connection: connection).storeGeneratedPlan(planID: planID, plan: try validated(), tests: tests,
                                                                                estimate: nil, changeNote: "first draft")
        #expect(version == 1)
        let plan = try connection.query("SELECT status, project_name, total_tasks, version, generated_at IS NOT NULL FROM masterplans WHERE id = $1", [planID]).first!
        #expect(try plan.decode(String.self, 0) == "draft")
        #expect(try plan.decode(String.self, 1) == "todo-api")
        #expect(try plan.decode(Int.self, 2) == 2)
        #expect(try plan.decode(Int.self, 3) == 1)
        #expect(try plan.decode(Bool.self, 4))
        func count(_ sql: String) throws -> Int { try connection.query(sql, [planID]).first!.decode(Int.self, 0) }
        #expect(try count("SELECT count(*) FROM tasks WHERE plan_id = $1") == 2)
        #expect(try count("SELECT count(*) FROM subtasks s JOIN tasks t ON t.id = s.task_id WHERE t.plan_id = $1") == 3)
        #expect(try count("SELECT count(*) FROM task_dependencies WHERE plan_id = $1") == 1)
        #expect(try count("SELECT count(*) FROM acceptance_criteria WHERE plan_id = $1") == 3)
        // The MUST test of task 2 links to task 2's MUST criterion only.
        #expect(try count("SELECT count(*) FROM acceptance_test_criteria WHERE plan_id = $1") == 1)
        #expect(try count("SELECT count(*) FROM plan_versions WHERE plan_id = $1") == 1)
        #expect(try count("SELECT count(*) FROM plan_history WHERE plan_id = $1 AND event = 'generated'") == 1)
        let types = try connection.query("SELECT type FROM events WHERE plan_id = $1 ORDER BY id", [planID]).rows.map { try $0.decode(String.self, 0) }
        #expect(types == ["plan_status_changed", "masterplan_generation_complete"])
        #expect(try listener.waitForNotifications(timeout: .seconds(5)).count >= 1)
    }

    @Test func regenerationReplacesTheDraftTreeAsTheNextVersion() throws {
        let planID = try newPlan()
        let writer = PlanWriter(connection: connection)
        try writer.storeGeneratedPlan(planID: planID, plan: try validated(), tests: tests, estimate: nil, changeNote: "v1")
        try connection.execute("UPDATE masterplans SET status = 'generating' WHERE id = $1", [planID])
        #expect(try writer.storeGeneratedPlan(planID: planID, plan: try validated(), tests: [], estimate: nil, changeNote: "v2") == 2)
        #expect(try connection.query("SELECT count(*) FROM tasks WHERE plan_id = $1", [planID]).first!.decode(Int.self, 0) == 2)
        #expect(try connection.query("SELECT count(*) FROM acceptance_tests WHERE plan_id = $1", [planID]).first!.decode(Int.self, 0) == 0)
        #expect(try connection.query("SELECT version FROM masterplans WHERE id = $1", [planID]).first!.decode(Int.self, 0) == 2)
    }

    @Test func aPlanThatIsNotGeneratingIsLeftUnchanged() throws {
        let planID = try newPlan()
        let writer = PlanWriter(connection: connection)
        try writer.storeGeneratedPlan(planID: planID, plan: try validated(), tests: tests, estimate: nil, changeNote: "v1")
        // Now a draft: storing again is an illegal transition and changes nothing.
        #expect(throws: IllegalTransition.self) {
            try writer.storeGeneratedPlan(planID: planID, plan: try validated(), tests: [], estimate: nil, changeNote: "again")
        }
        #expect(try connection.query("SELECT count(*) FROM acceptance_tests WHERE plan_id = $1", [planID]).first!.decode(Int.self, 0) == 1)
        #expect(try connection.query("SELECT count(*) FROM plan_versions WHERE plan_id = $1", [planID]).first!.decode(Int.self, 0) == 1)
    }

    @Test func discoveryIsStoredAndLinked() throws {
        let planID = try newPlan()
        let discovery = Discovery(domain: "task management", boundedContexts: [.init(name: "Tasks", description: "Todo items")])
        let id = try PlanWriter(connection: connection).storeDiscovery(planID: planID, discovery: discovery,
                                                                      usage: .init(model: "scripted", inputTokens: 10, outputTokens: 20, costUSD: 0))
        let row = try connection.query("SELECT d.domain, d.bounded_contexts FROM masterplans p JOIN discoveries d ON d.id = p.discovery_id WHERE p.id = $1", [planID]).first!
        #expect(try row.decode(String.self, 0) == "task management")
        #expect(try row.decode(JSONValue.self, 1)[0]?["name"] == "Tasks")
        #expect(try connection.query("SELECT count(*) FROM events WHERE plan_id = $1 AND type = 'discovery_generation_complete'", [planID]).first!.decode(Int.self, 0) == 1)
        _ = id
    }

    func currentDatabase() throws -> String {
        try connection.query("SELECT current_database()").first!.decode(String.self, 0)
    }
}
