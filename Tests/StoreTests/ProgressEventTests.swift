import Foundation
import JSON
import PlanCore
import Postgres
import Store
import Testing
import TestSupport

/// The typed event catalogue (`ProgressEvent`) against what the database accepts, and each payload
/// against the JSON a browser receives today: the SSE wire format does not change with the types.
@Suite(.dedicatedThreads) struct ProgressEventTests {
    /// Every `('name', …)` row of an `INSERT INTO event_types` in `Migrations/*.sql`, in file order.
    static func registeredNames() throws -> [String] {
        let folder = TestDatabase.migrationsDirectory
        var names: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: folder).filter({ $0.hasSuffix(".sql") }).sorted() {
            let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
            var inInsert = false
            for line in text.split(separator: "\n") {
                let trimmed = line.drop { $0 == " " }
                if trimmed.hasPrefix("INSERT INTO event_types") {
                    inInsert = true
                } else if inInsert, trimmed.hasPrefix("('"), let end = trimmed.dropFirst(2).firstIndex(of: "'") {
                    // A row opens with its name as a string literal.
                    names.append(String(trimmed[trimmed.index(trimmed.startIndex, offsetBy: 2)..<end]))
                }
                // The statement ends with the line that ends with ";" (a description may hold one inside).
                if inInsert, trimmed.hasSuffix(";") { inInsert = false }
            }
        }
        return names
    }

    @Test func theMigrationsRegisterExactlyTheCatalogue() throws {
        let catalogue = ProgressEvent.Kind.allCases.map(\.rawValue)
        #expect(try Self.registeredNames() == catalogue)

        let connection = try Connection(try TestDatabase.migrated())
        let stored = try connection.query("SELECT name FROM event_types ORDER BY name").rows.map { try $0.decode(String.self, 0) }
        #expect(stored == catalogue.sorted())
    }

    static let plan = UUID(uuidString: "aaaaaaaa-0000-4000-8000-000000000001")!
    static let other = UUID(uuidString: "bbbbbbbb-0000-4000-8000-000000000002")!

    /// Each typed event with the payload the hand-built `JSONObject`s sent before it had a type.
    static let wire: [(ProgressEvent, String)] = [
        (.discoveryGenerationStart(.init(planID: plan, request: "a todo API", jobAttempt: 1)),
         #"{"plan_id":"aaaaaaaa-0000-4000-8000-000000000001","request":"a todo API","job_attempt":1}"#),
        (.discoveryTokensProgress(.init(planID: plan, step: .discovery, attempt: 1, characters: 200, chunks: 1, elapsedMilliseconds: 40,
                                        completion: nil)),
         #"{"plan_id":"aaaaaaaa-0000-4000-8000-000000000001","stage":"discovery","attempt":1,"characters":200,"chunks":1,"elapsed_ms":40,"done":false}"#),
        (.masterplanTokensProgress(.init(planID: plan, step: .planRepair, attempt: 2, problems: 3, characters: 900, chunks: 5,
                                         elapsedMilliseconds: 1200,
                                         completion: .init(inputTokens: 100, outputTokens: nil, model: "claude"))),
         #"{"plan_id":"aaaaaaaa-0000-4000-8000-000000000001","stage":"plan_repair","attempt":2,"problems":3,"characters":900,"chunks":5,"elapsed_ms":1200,"done":true,"input_tokens":100,"output_tokens":null,"model":"claude"}"#),
        (.discoveryGenerationComplete(.init(discoveryID: other, domain: "todo")),
         #"{"discovery_id":"bbbbbbbb-0000-4000-8000-000000000002","domain":"todo"}"#),
        (.masterplanGenerationStart(.init(planID: plan, regeneration: true, maxTasks: 12, examplePlanIDs: [other], jobAttempt: 2,
                                          previous: .init(version: 1, feedback: nil))),
         #"{"plan_id":"aaaaaaaa-0000-4000-8000-000000000001","regeneration":true,"max_tasks":12,"examples":1,"example_plan_ids":["bbbbbbbb-0000-4000-8000-000000000002"],"job_attempt":2,"from_version":1,"feedback":null}"#),
        (.masterplanGenerationStart(.init(planID: plan, regeneration: false, maxTasks: 12, examplePlanIDs: [], jobAttempt: 1, previous: nil)),
         #"{"plan_id":"aaaaaaaa-0000-4000-8000-000000000001","regeneration":false,"max_tasks":12,"examples":0,"example_plan_ids":[],"job_attempt":1}"#),
        (.masterplanGenerationComplete(.init(version: 2, projectName: "todo-api", tasks: 3, tests: 4, testsThatCannotFail: ["test_a"],
                                             estimatedCostUSD: nil)),
         #"{"version":2,"project_name":"todo-api","tasks":3,"tests":4,"tests_that_cannot_fail":["test_a"],"estimated_cost_usd":null}"#),
        (.masterplanGenerationComplete(.init(version: 3, projectName: "todo-api", tasks: 3, tests: 4, testsThatCannotFail: [],
                                             estimatedCostUSD: 0.25, sameAsVersion: 2)),
         #"{"version":3,"project_name":"todo-api","tasks":3,"tests":4,"tests_that_cannot_fail":[],"estimated_cost_usd":0.25,"same_as_version":2}"#),
        (.masterplanGenerationFailed(.init(planID: plan, stage: "plan", reason: "invalid", transient: false, llmError: nil,
                                           problems: ["$.phases: missing"], jobAttempt: 1)),
         #"{"stage":"plan","reason":"invalid","transient":false,"problems":["$.phases: missing"],"job_attempt":1,"plan_id":"aaaaaaaa-0000-4000-8000-000000000001"}"#),
        (.planStatusChanged(.init(from: nil, to: .generating, action: .create)), #"{"from":null,"to":"generating","action":"create"}"#),
        (.planStatusChanged(.init(from: .generating, to: .draft)), #"{"from":"generating","to":"draft"}"#),
        (.planStatusChanged(.init(from: .draft, to: .approved, action: .approve, frozenTests: 2, version: 3)),
         #"{"from":"draft","to":"approved","action":"approve","frozen_tests":2,"version":3}"#),
        (.planStatusChanged(.init(from: .paused, to: .executing, action: .resume, jobID: other)),
         #"{"from":"paused","to":"executing","action":"resume","job_id":"bbbbbbbb-0000-4000-8000-000000000002"}"#),
        (.masterplanExecutionStart(.init(totalAtoms: 5, totalWaves: 2, concurrency: 4, workspace: "/w")),
         #"{"total_atoms":5,"total_waves":2,"concurrency":4,"workspace":"/w"}"#),
        (.waveExecutionStart(.init(wave: 1, atomCount: 3, totalWaves: 2)), #"{"wave":1,"atom_count":3,"total_waves":2}"#),
        (.reviewResolved(.init(reviewID: other, status: .approved, kind: "atom", atomID: nil)),
         #"{"review_id":"bbbbbbbb-0000-4000-8000-000000000002","status":"approved","kind":"atom","atom_id":null}"#),
        (.costWarning(.init(spentUSD: 4, budgetUSD: 5, threshold: 0.8)), #"{"spent_usd":4.0,"budget_usd":5.0,"share":0.8,"threshold":0.8}"#),
        (.chatMessage(.init(conversationID: other, message: ["role": "user"])),
         #"{"conversation_id":"bbbbbbbb-0000-4000-8000-000000000002","message":{"role":"user"}}"#),
        (.chatMessage(.init(conversationID: other, message: ["role": "assistant"], reply: .init(planRequest: nil, inReplyTo: plan))),
         #"{"conversation_id":"bbbbbbbb-0000-4000-8000-000000000002","message":{"role":"assistant"},"plan_request":null,"in_reply_to":"aaaaaaaa-0000-4000-8000-000000000001"}"#),
        (.chatReplyProgress(.init(conversationID: other, messageID: plan, text: "héllo")),
         #"{"conversation_id":"bbbbbbbb-0000-4000-8000-000000000002","message_id":"aaaaaaaa-0000-4000-8000-000000000001","text":"héllo","characters":5}"#),
        // The executor's events, as `PlanRun` built them by hand before they had types.
        (.atomExecutionProgress(.init(atom: atom, attempt: 2, temperature: 0.3, passed: false, origin: "retry",
                                      validators: [.init(name: "python_syntax", passed: false)], errors: ["line 1: invalid syntax"])),
         #"{"atom_id":"bbbbbbbb-0000-4000-8000-000000000002","wave":1,"task_number":3,"file":"app/main.py","attempt":2,"temperature":0.3,"passed":false,"origin":"retry","validators":[{"name":"python_syntax","passed":false}],"errors":["line 1: invalid syntax"]}"#),
        (.atomExecutionComplete(.init(atom: atom, status: .succeeded, origin: "generate", attempts: 1, confidence: 0.9)),
         #"{"atom_id":"bbbbbbbb-0000-4000-8000-000000000002","wave":1,"task_number":3,"file":"app/main.py","status":"succeeded","attempts":1,"confidence":0.9,"origin":"generate"}"#),
        (.atomExecutionComplete(.init(atom: atom, status: .needsReview, attempts: 3, confidence: 0.2, validated: false, reviewID: plan)),
         #"{"atom_id":"bbbbbbbb-0000-4000-8000-000000000002","wave":1,"task_number":3,"file":"app/main.py","status":"needs_review","attempts":3,"confidence":0.2,"validated":false,"review_id":"aaaaaaaa-0000-4000-8000-000000000001"}"#),
        (.atomExecutionComplete(.init(atom: atom, status: .approved, origin: "review_edit", attempt: 4)),
         #"{"atom_id":"bbbbbbbb-0000-4000-8000-000000000002","wave":1,"task_number":3,"file":"app/main.py","origin":"review_edit","attempt":4,"status":"approved"}"#),
        (.waveExecutionComplete(.init(wave: 2, commit: "abc123", outcome: .passed(atoms: 4, repairRounds: 1, testsRun: 3))),
         #"{"wave":2,"status":"passed","commit":"abc123","atoms":4,"repair_rounds":1,"tests_run":3}"#),
        (.waveExecutionComplete(.init(wave: 2, commit: nil, outcome: .waived(reasons: ["flaky upstream"]))),
         #"{"wave":2,"status":"waived","waived":true,"commit":null,"waiver_reasons":["flaky upstream"]}"#),
        (.acceptanceTestResult(.init(testID: plan, name: "test_add", file: "tests/test_add.py", priority: "must", wave: 1, repairRound: 0,
                                     status: "passed", durationMilliseconds: 120, reason: nil, cases: 2, casesPassed: 2, mutation: "caught")),
         #"{"test_id":"aaaaaaaa-0000-4000-8000-000000000001","name":"test_add","file":"tests/test_add.py","priority":"must","wave":1,"repair_round":0,"status":"passed","duration_ms":120,"reason":null,"cases":2,"cases_passed":2,"mutation":"caught"}"#),
        (.gateValidationResult(.init(wave: 1, repairRound: 1, passed: false, mustTotal: 2, mustPassed: 1, shouldTotal: 0, shouldPassed: 0,
                                     failingTests: [.init(testID: "t1", name: nil, priority: "must", status: "not_run")], final: true,
                                     finalGateCommit: "def456")),
         #"{"wave":1,"repair_round":1,"passed":false,"must_total":2,"must_passed":1,"should_total":0,"should_passed":0,"failing_tests":[{"test_id":"t1","name":null,"priority":"must","status":"not_run"}],"final":true,"final_gate":true,"commit":"def456"}"#),
        (.masterplanExecutionComplete(.init(verification: "accepted_with_waivers",
                                            waivers: [.init(testID: "t1", name: "test_x", reason: "known", waivedBy: "u", waivedAt: "2026-12-06T00:00:00Z")],
                                            totalWaves: 2, totalAtoms: 5, costUSD: 0.5, workspace: "/w", commit: nil)),
         #"{"status":"completed","verification":"accepted_with_waivers","waivers":[{"test_id":"t1","name":"test_x","reason":"known","waived_by":"u","waived_at":"2026-12-06T00:00:00Z"}],"total_waves":2,"total_atoms":5,"cost_usd":0.5,"workspace":"/w","commit":null}"#),
        // review_created used to come in two shapes (without `wave` from an atom's end, with the
        // producer's fields from a gate or an edit); it now has one.
        (.reviewCreated(.init(reviewID: plan, atom: atom, priority: "high", confidence: 0.4, reason: "low", blocking: true, gate: true)),
         #"{"atom_id":"bbbbbbbb-0000-4000-8000-000000000002","wave":1,"task_number":3,"file":"app/main.py","review_id":"aaaaaaaa-0000-4000-8000-000000000001","kind":"atom","priority":"high","confidence":0.4,"reason":"low","blocking":true,"gate":true}"#),
    ]

    static let atom = ProgressEvent.AtomReference(atomID: other, wave: 1, taskNumber: 3, file: "app/main.py")

    @Test(arguments: wire.indices) func aTypedPayloadIsTheJSONSentBefore(_ index: Int) throws {
        let (event, json) = Self.wire[index]
        #expect(JSONValue.object(event.payload) == (try JSONValue.parse(json)), "\(event.kind.rawValue)")
    }

    @Test func everyTypedEventIsAcceptedByTheDatabaseUnderItsName() throws {
        let connection = try Connection(try TestDatabase.migrated())
        let owner = try TestDatabase.insertUser("events", on: connection)
        let planID = try connection.query("INSERT INTO masterplans (owner_id, request, budget_usd) VALUES ($1, 'x', 5) RETURNING id",
                                          [owner]).first!.decode(UUID.self, 0)
        for (event, _) in Self.wire {
            let id = try connection.transaction { try EventFeed($0).emit(event, ownerID: owner, planID: planID) }
            let row = try #require(try connection.query("SELECT type, payload FROM events WHERE id = $1", [id]).first)
            #expect(try row.decode(String.self, 0) == event.kind.rawValue)
            #expect(try row.decode(JSONValue.self, 1) == .object(event.payload))
        }
    }

    /// History said `resumed` when a user resumed a plan and `resume` when the executor did.
    @Test func aResumedPlanIsResumedInHistoryWhoeverResumedIt() throws {
        #expect(ProgressEvent.PlanStatusChanged.Action.resume.historyEvent == "resumed")
        let connection = try Connection(try TestDatabase.migrated())
        let owner = try TestDatabase.insertUser("resume", on: connection)
        let planID = try connection.query(
            """
            INSERT INTO masterplans (owner_id, request, budget_usd, status, project_name, summary, approved_at, started_at)
            VALUES ($1, 'x', 5, 'blocked', 'todo-api', 'A todo API.', now(), now()) RETURNING id
            """, [owner]).first!.decode(UUID.self, 0)
        #expect(try ExecutionStore(connection).transition(planID: planID, ownerID: owner,
                                                          try StatusChange(from: .blocked, .resume), action: .resume, reason: nil))
        let history = try connection.query("SELECT event FROM plan_history WHERE plan_id = $1", [planID]).rows
            .map { try $0.decode(String.self, 0) }
        #expect(history == ["resumed"])
        let event = try #require(try connection.query("SELECT payload FROM events WHERE plan_id = $1 AND type = 'plan_status_changed'",
                                                      [planID]).first?.decode(JSONValue.self, 0))
        #expect(event["action"] == "resume")
    }
}
