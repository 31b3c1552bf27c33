@testable import Engine
import Foundation
import JSON
import LLM
import PlanCore
import Postgres
import Store
import Testing
import TestSupport

/// The bundled demo cassette (`DemoCassette.path`) against the real generation and execution
/// handlers: the plan for "create a FastAPI app with JWT auth" generated, approved and executed with
/// real files, real validators and the real pytest acceptance tests in bubblewrap — one retry, one
/// Gate S failure repaired, one low-confidence review, and `completed` once the review is approved.
@Suite(.dedicatedThreads, .serialized) struct DemoCassetteTests {
    let harness: ExecutionHarness
    var connection: Connection { harness.connection }

    init() throws {
        harness = try ExecutionHarness()
    }

    /// The bundled cassette's entries; without their delays unless `MASTERPLAN_DEMO_DELAYS=1` (to time
    /// the demo as a newcomer sees it).
    static func bundledEntries() throws -> [CassetteEntry] {
        let entries = try Cassette.load(path: DemoCassette.path).entries
        if ProcessInfo.processInfo.environment["MASTERPLAN_DEMO_DELAYS"] == "1" { return entries }
        return entries.map { entry in
            var quick = entry
            quick.delay = nil
            return quick
        }
    }

    func count(_ sql: String, _ parameters: [any PostgresBindable]) throws -> Int {
        try connection.query(sql, parameters).first!.decode(Int.self, 0)
    }

    func status(_ plan: UUID) throws -> String { try harness.generation.status(plan: plan).status }

    func atom(_ plan: UUID, _ path: String) throws -> (id: UUID, status: String, attempts: Int, confidence: Double?) {
        let row = try connection.query("SELECT id, status, attempts, confidence FROM atoms WHERE plan_id = $1 AND file_path = $2",
                                       [plan, path]).first!
        return (try row.decode(UUID.self, 0), try row.decode(String.self, 1), try row.decode(Int.self, 2), try row.decode(Double?.self, 3))
    }

    /// `(origin, accepted)` of the atom's attempts, in order.
    func attempts(_ atomID: UUID) throws -> [(origin: String, accepted: Bool)] {
        try connection.query("SELECT origin, accepted FROM atom_attempts WHERE atom_id = $1 ORDER BY attempt", [atomID]).rows.map {
            (try $0.decode(String.self, 0), try $0.decode(Bool.self, 1))
        }
    }

    /// What the API does on approval: the tests frozen, the plan approved and queued, an execution job.
    func approve(_ plan: UUID) throws {
        try connection.transaction { c in
            let plans = PlanQueries(c)
            _ = try plans.freezeAcceptanceTests(planID: plan)
            guard try plans.changeStatus(id: plan, from: "draft", to: "approved", reason: nil),
                  try plans.changeStatus(id: plan, from: "approved", to: "queued", reason: nil) else {
                throw HarnessError(message: "the generated demo plan was not a draft")
            }
            _ = try JobQueue(c).enqueue(.execution, planID: plan)
        }
    }

    @Test func theDemoCassetteRunsTheFastAPIExampleToCompletedThroughEveryMechanism() async throws {
        let entries = try Self.bundledEntries()
        let clock = ContinuousClock()
        let started = clock.now

        // Generation: discovery, plan, acceptance tests — each accepted the first time.
        let plan = try harness.generation.createPlan(request: DemoCassette.request)
        try await harness.generation.withModel(entries) { client in
            try await harness.generation.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()))
        }
        let generated = clock.now
        #expect(try status(plan) == "draft")
        #expect(try harness.generation.llmPurposes(plan: plan) == ["discovery", "masterplan", "acceptance_tests"])
        #expect(try count("SELECT count(*) FROM tasks WHERE plan_id = $1", [plan]) == 7)
        #expect(try count("SELECT count(*) FROM acceptance_tests WHERE plan_id = $1", [plan]) == 7)
        #expect(try count("SELECT count(*) FROM acceptance_tests WHERE plan_id = $1 AND priority = 'must'", [plan]) == 5)
        #expect(try count("SELECT count(*) FROM llm_calls WHERE plan_id = $1 AND model <> $2", [plan, DemoCassette.model]) == 0)

        // Execution until the plan waits for its one low-confidence review.
        try approve(plan)
        try await harness.execute(entries)
        let executed = clock.now
        let blocked = try harness.generation.status(plan: plan)
        #expect(blocked.status == "blocked", "\(blocked.reason ?? "")")
        #expect(try harness.commits(plan) == ["wave 1: 4 atoms", "wave 1: repair round 1", "wave 2: 3 atoms", "wave 3: 1 atom",
                                              "wave 4: 1 atom", "wave 5: 1 atom"])

        // The retry: app/auth.py's first answer has a syntax error, the second is right.
        let auth = try atom(plan, "app/auth.py")
        #expect(auth.status == "succeeded")
        #expect(try attempts(auth.id).map(\.origin) == ["generate", "retry"])
        #expect(try attempts(auth.id).map(\.accepted) == [false, true])
        #expect(abs((auth.confidence ?? 0) - 0.81) < 0.0001)
        // No other atom was retried except the low-confidence one (three attempts).
        #expect(try count("SELECT count(DISTINCT atom_id) FROM atom_attempts WHERE plan_id = $1 AND origin = 'retry'", [plan]) == 2)
        #expect(try count("SELECT count(*) FROM atom_attempts WHERE plan_id = $1 AND origin = 'retry'", [plan]) == 3)

        // The gate: wave 1 fails on the MUST password test, one repair round of app/passwords.py fixes it.
        let gates = try connection.query(
            """
            SELECT w.number, g.repair_round, g.passed, g.must_total, g.must_passed FROM gate_results g JOIN waves w ON w.id = g.wave_id
            WHERE g.plan_id = $1 ORDER BY w.number, g.repair_round
            """, [plan]).rows.map { row in
                (wave: try row.decode(Int.self, 0), round: try row.decode(Int.self, 1), passed: try row.decode(Bool.self, 2),
                 mustTotal: try row.decode(Int.self, 3), mustPassed: try row.decode(Int.self, 4))
            }
        #expect(gates.map(\.wave) == [1, 1, 2, 3, 4, 5])
        #expect(gates.map(\.round) == [0, 1, 0, 0, 0, 0])
        #expect(gates.map(\.passed) == [false, true, true, true, true, true])
        #expect(gates.first.map { $0.mustTotal - $0.mustPassed } == 1)
        #expect(gates.last?.mustTotal == 5)
        #expect(gates.last?.mustPassed == 5)
        let failed = try connection.query(
            """
            SELECT t.name FROM test_runs r JOIN acceptance_tests t ON t.id = r.test_id AND t.plan_id = r.plan_id
            WHERE r.plan_id = $1 AND r.kind = 'gate' AND r.status <> 'pass'
            """, [plan]).rows.map { try $0.decode(String.self, 0) }
        #expect(failed == ["test_password_hashing"])
        // Every MUST test that passed also failed without the files of the tasks it covers.
        #expect(try connection.query("SELECT count(*) FROM test_runs WHERE plan_id = $1 AND kind = 'mutation' AND status = 'pass'",
                                     [plan]).first!.decode(Int.self, 0) == 0)
        #expect(try connection.query("SELECT count(DISTINCT test_id) FROM test_runs WHERE plan_id = $1 AND kind = 'mutation'",
                                     [plan]).first!.decode(Int.self, 0) == 5)
        let passwords = try atom(plan, "app/passwords.py")
        #expect(try attempts(passwords.id).map(\.origin) == ["generate", "gate_repair"])
        #expect(try attempts(passwords.id).map(\.accepted) == [false, true], "the repaired version replaced the first one")
        #expect(passwords.status == "succeeded")

        // The review: app/tokens.py (high complexity) took three attempts — 0.65, below 0.70.
        let tokens = try atom(plan, "app/tokens.py")
        #expect(tokens.status == "needs_review")
        #expect(try attempts(tokens.id).map(\.origin) == ["generate", "retry", "retry"])
        #expect(abs((tokens.confidence ?? 0) - 0.65) < 0.0001)
        let reviews = try connection.query(
            "SELECT id, atom_id, priority, blocking, ai_suggestions FROM reviews WHERE plan_id = $1 AND status = 'pending'", [plan]).rows
        #expect(reviews.count == 1)
        let review = try #require(reviews.first)
        #expect(try review.decode(UUID.self, 1) == tokens.id)
        #expect(try review.decode(String.self, 2) == "medium")
        #expect(try review.decode(Bool.self, 3) == false)
        let suggestions = try review.decode(JSONValue.self, 4)
        #expect(suggestions["recommended_action"]?.stringValue == "approve")
        #expect(suggestions["suggestions"]?.arrayValue?.count == 3)
        // Every wave passed meanwhile: the review does not block the waves, only the plan's completion.
        #expect(try count("SELECT count(*) FROM waves WHERE plan_id = $1 AND status = 'passed'", [plan]) == 5)

        // A reviewer approves it; the next run completes the plan without another model call.
        let calls = try count("SELECT count(*) FROM llm_calls WHERE plan_id = $1", [plan])
        #expect(calls == 3 + 10 + 3 + 1 + 1, "generation, first answers, three retries, the suggestions, the gate repair")
        try harness.resolve(review: try review.decode(UUID.self, 0), as: "approved")
        try await harness.execute([])
        #expect(try status(plan) == "completed")
        #expect(try atom(plan, "app/tokens.py").status == "approved")
        #expect(try count("SELECT count(*) FROM llm_calls WHERE plan_id = $1", [plan]) == calls)

        // Every acceptance test ran, and its last run passed; the workspace holds the reference project.
        let lastRuns = try connection.query(
            """
            SELECT DISTINCT ON (test_id) status FROM test_runs WHERE plan_id = $1 AND kind = 'gate' ORDER BY test_id, created_at DESC, repair_round DESC
            """, [plan]).rows.map { try $0.decode(String.self, 0) }
        #expect(lastRuns == Array(repeating: "pass", count: 7))
        for file in DemoScript.files {
            #expect(harness.read(plan, file.path) == file.content, "\(file.path) holds the reference content")
        }
        let types = try harness.generation.eventTypes(plan: plan)
        for type in ["review_created", "acceptance_test_result", "gate_validation_result", "masterplan_execution_complete"] {
            #expect(types.contains(type), "event \(type)")
        }
        print("demo timing: generation \(generated - started), execution until the review \(executed - generated), "
              + "total \(clock.now - started)")
    }
}

/// The bundled cassette is what `DemoScript` generates, names the scripted model on every line, and
/// reads as a cassette.
@Suite(.dedicatedThreads) struct DemoCassetteScriptTests {
    /// Where the cassette lives in the repository.
    static var sourcePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/LLM/Resources/demo/\(DemoCassette.fileName)").path
    }

    @Test func theBundledCassetteIsGeneratedFromTheDemoScript() throws {
        let text = DemoScript.cassetteText
        if ProcessInfo.processInfo.environment["MASTERPLAN_WRITE_DEMO_CASSETTE"] == "1" {
            try text.write(toFile: Self.sourcePath, atomically: true, encoding: .utf8)
        }
        let source = FileManager.default.contents(atPath: Self.sourcePath).map { String(decoding: $0, as: UTF8.self) }
        #expect(source == text, "Sources/LLM/Resources/demo/\(DemoCassette.fileName) is stale: run MASTERPLAN_WRITE_DEMO_CASSETTE=1 swift test --filter DemoCassetteScript")
        let bundled = FileManager.default.contents(atPath: DemoCassette.path).map { String(decoding: $0, as: UTF8.self) }
        #expect(bundled == text, "the bundled copy at \(DemoCassette.path) differs from the script (rebuild after regenerating)")
    }

    @Test func everyEntryIsTheScriptedDemoModelWithUsageAndASmallDelay() throws {
        let entries = try Cassette.load(path: DemoCassette.path).entries
        #expect(entries.count == DemoScript.calls.count)
        for entry in entries {
            #expect(entry.model == DemoCassette.model, "line \(entry.line)")
            #expect((entry.usage?.inputTokens ?? 0) > 0 && (entry.usage?.outputTokens ?? 0) > 0, "line \(entry.line)")
            #expect(entry.chunkCharacters == DemoScript.chunkCharacters, "line \(entry.line)")
            let delay = try #require(entry.delay, "line \(entry.line)")
            #expect(delay >= .milliseconds(200) && delay <= .milliseconds(4000), "line \(entry.line)")
            #expect(entry.error == nil)
        }
        // The purposes the executor and the chat use.
        let purposes = Set(entries.map(\.purpose))
        #expect(purposes == ["chat", "discovery", "masterplan", "acceptance_tests", "atom", "gate_repair", "review_suggestions"])
        // Each generation call is answered once, by a document the parser accepts.
        let parser = PlanParser(limits: GenerationConfiguration.default.limits(for: DemoCassette.request))
        let plan = try parser.parsePlan(DemoScript.plan)
        #expect(plan.tasks.count == 7)
        #expect(plan.tasks.count <= GenerationConfiguration.default.taskBudget(for: "x"), "the plan fits the budget of any request")
        _ = try parser.parseDiscovery(DemoScript.discovery)
        #expect(try parser.parseAcceptanceTests(DemoScript.acceptanceTests, for: plan).count == 7)
        #expect(try AnswerParser.chatReply(DemoScript.chatReply).planRequest == DemoCassette.request)
        #expect(try AnswerParser.reviewSuggestions(DemoScript.tokensReview).recommendedAction == "approve")
        #expect(try AnswerParser.reviewSuggestions(DemoScript.genericReview).recommendedAction == "regenerate")
        // Every file the plan writes has reference content, and every atom key is answered.
        #expect(Set(plan.tasks.flatMap(\.files)) == Set(DemoScript.files.map(\.path)))
        for task in plan.tasks {
            #expect(DemoScript.dependencies[task.number] == task.dependsOn.sorted(), "DemoScript.dependencies of task \(task.number)")
            for file in task.files {
                #expect(DemoScript.task(of: file) == task.number, "the task of \(file)")
                #expect(entries.contains { $0.purpose == "atom" && $0.key == AtomPrompts.key(taskNumber: task.number, path: file) },
                        "atom \(task.number)/\(file)")
            }
        }
    }
}
