@testable import Engine
import Foundation
import JSON
import LLM
import PlanCore
import Postgres
import Store
import Testing
import TestSupport

/// Generation end to end against the real database and a real replay server: request → discovery →
/// plan → acceptance tests → draft, the repair loop, giving up, retries, and resuming.
@Suite(.timeLimit(.minutes(2))) struct GenerationHandlerTests {
    let harness: GenerationHarness

    init() throws {
        harness = try GenerationHarness()
    }

    /// Every generated test is tried once against a workspace holding only the tests: one that passes
    /// there (it asserts a non-empty tuple, which is always true) cannot fail and is marked so, with
    /// what its run printed; the real ones fail there, as they should before any code exists.
    @Test func aTestThatPassesBeforeAnyCodeExistsIsMarkedCannotFail() async throws {
        var json = WordCountFixture.acceptanceTestsJSON
        var tests = json["tests"]?.arrayValue ?? []
        tests[0] = ["name": "test_count_text_counts_lines_words_and_characters", "priority": "must", "covers": [1],
                    "file": "tests/test_counter.py",
                    "code": "def test_count_text_counts_lines_words_and_characters():\n    assert (1 == 2, \"counts are right\")\n"]
        json = ["tests": .array(tests)]
        let plan = try harness.createPlan()
        try await harness.withModel([WordCountFixture.entry(.discovery, "discovery", WordCountFixture.discovery),
                                     WordCountFixture.entry(.masterplan, "masterplan", WordCountFixture.plan),
                                     WordCountFixture.entry(.acceptanceTests, "acceptance_tests", json.jsonText)]) { client in
            try await harness.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()))
        }
        #expect(try harness.status(plan: plan).status == "draft")
        let rows = try harness.connection.query(
            "SELECT name, cannot_fail, cannot_fail_output FROM acceptance_tests WHERE plan_id = $1 ORDER BY file_path", [plan]).rows
        let marked = try rows.filter { try $0.decode(Bool.self, 1) }.map { try $0.decode(String.self, 0) }
        #expect(marked == ["test_count_text_counts_lines_words_and_characters"])
        let output = try rows.compactMap { try $0.decode(String?.self, 2) }.joined()
        #expect(output.contains("passes against an empty workspace"), "\(output)")
        #expect(output.contains("PASSED tests/test_counter.py::test_count_text_counts_lines_words_and_characters"), "\(output)")
        let complete = try #require(try harness.events(plan: plan).last { $0.type == "masterplan_generation_complete" })
        #expect(complete.payload["tests_that_cannot_fail"] == ["test_count_text_counts_lines_words_and_characters"])
        #expect(try PlanQueries(harness.connection).unconfirmedTestsThatCannotFail(planID: plan)
            == ["test_count_text_counts_lines_words_and_characters"])
    }

    /// A plan that asks: generation stops after the discovery, the conversation lists the questions with
    /// the assumed answers, and nothing is planned until the person answers; their answers are then
    /// stored and the next generation job plans from them, to a draft.
    @Test func aPlanThatAsksWaitsForTheAnswersAndThenPlans() async throws {
        let conversation = try harness.makeConversation()
        let plan = try harness.createPlan(conversation: conversation, askQuestions: true)
        try await harness.withModel(WordCountFixture.happyPath) { client in
            try await harness.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()))
        }
        let waiting = try harness.status(plan: plan)
        #expect(waiting.status == "awaiting_answers")
        #expect(waiting.reason == "The discovery has 1 question for you: answer it or use the assumed answers, and the plan is generated from that.")
        #expect(try harness.llmPurposes(plan: plan) == ["discovery"])
        #expect(try harness.count("SELECT count(*) FROM phases WHERE plan_id = $1", [plan]) == 0)
        #expect(try harness.count("SELECT count(*) FROM plan_history WHERE plan_id = $1 AND event = 'questions_asked' AND actor = 'llm'", [plan]) == 1)
        let events = try harness.events(plan: plan)
        #expect(Array(events.map(\.type).suffix(2)) == ["plan_status_changed", "chat_message"])
        let changed = try #require(events.last { $0.type == "plan_status_changed" })
        #expect(changed.payload["to"] == "awaiting_answers")
        let message = try harness.connection.query(
            "SELECT content FROM messages WHERE conversation_id = $1 AND role = 'assistant'", [conversation]).first!.decode(String.self, 0)
        #expect(message.hasPrefix("Before I plan, one question."))
        #expect(message.contains("1. Should folders be searched recursively?\n   Assumed: No: only the files named on the command line are counted."))

        // The person answers (what `POST …/answer` does), and the next job plans.
        try harness.connection.transaction { c in
            let plans = PlanQueries(c)
            let stored = try #require(try plans.lockDiscovery(planID: plan))
            let answers = try ClarificationAnswers(for: try Discovery(json: stored.discovery), given: ["Yes, recursively."])
            try plans.storeAnswers(discoveryID: stored.id, answers: answers)
            #expect(try plans.changeStatus(id: plan, from: "awaiting_answers", to: "generating", reason: nil))
            _ = try JobQueue(c).enqueue(.generation, planID: plan, conversationID: conversation, payload: [:])
        }
        let state = try #require(try GenerationQueries(harness.connection).planState(id: plan))
        #expect(state.answers?.answers == [.init(question: "Should folders be searched recursively?", answer: "Yes, recursively.", byPerson: true)])
        try await harness.withModel(WordCountFixture.happyPath) { client in
            try await harness.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()))
        }
        #expect(try harness.status(plan: plan).status == "draft")
        // The discovery was not made twice.
        #expect(try harness.llmPurposes(plan: plan) == ["discovery", "masterplan", "acceptance_tests"])
    }

    @Test func aPlanThatDoesNotAskRunsThroughWithTheAssumptions() async throws {
        let plan = try harness.createPlan(askQuestions: false)
        try await harness.withModel(WordCountFixture.happyPath) { client in
            try await harness.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()))
        }
        #expect(try harness.status(plan: plan).status == "draft")
    }

    @Test func aRequestBecomesADraftWithItsTestsLinkedToCriteria() async throws {
        let plan = try harness.createPlan()
        try await harness.withModel(WordCountFixture.happyPath) { client in
            try await harness.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()))
        }

        let state = try harness.status(plan: plan)
        #expect(state.status == "draft")
        #expect(state.reason == nil)
        #expect(state.version == 1)

        // The page shows the answers as they are written: each call's last progress event carries the
        // end of its answer (here the whole of it) and where that text starts.
        let written = try harness.events(plan: plan)
        for (type, stage, answer) in [("discovery_tokens_progress", "discovery", WordCountFixture.discovery),
                                      ("masterplan_tokens_progress", "plan", WordCountFixture.plan),
                                      ("masterplan_tokens_progress", "acceptance_tests", WordCountFixture.acceptanceTests)] {
            let done = try #require(written.last { $0.type == type && $0.payload["stage"]?.stringValue == stage && $0.payload["done"] == true })
            let text = try #require(done.payload["text"]?.stringValue)
            #expect(text == String(answer.suffix(ProgressEvent.TokensProgress.textLimit)), "\(stage)")
            #expect(done.payload["text_offset"] == JSONValue(answer.count - text.count), "\(stage)")
        }
        let row = try harness.connection.query("""
            SELECT project_name, total_tasks, total_atoms, total_waves, estimated_cost_usd::float8, discovery_id IS NOT NULL,
                   tech_stack->>'test_command'
            FROM masterplans WHERE id = $1
            """, [plan]).first!
        #expect(try row.decode(String.self, 0) == "wordcount")
        #expect(try row.decode(Int.self, 1) == 3)
        #expect(try row.decode(Int.self, 2) == 5)
        #expect(try row.decode(Int.self, 3) == 3)
        #expect(try row.decode(Double.self, 4) > 0)
        #expect(try row.decode(Bool.self, 5))
        #expect(try row.decode(String.self, 6) == "python -m pytest -q")

        // The tree, with the dependency of the command line on the counter.
        #expect(try harness.count("""
            SELECT count(*) FROM task_dependencies td JOIN tasks t ON t.id = td.task_id JOIN tasks d ON d.id = td.depends_on_task_id
            WHERE td.plan_id = $1 AND t.number = 2 AND d.number = 1
            """, [plan]) == 1)

        // Each test checks the criteria of the tasks it covers that share its priority.
        let links = try harness.connection.query("""
            SELECT x.file_path, x.priority, t.number, c.priority FROM acceptance_tests x
            JOIN acceptance_test_criteria tc ON tc.test_id = x.id JOIN acceptance_criteria c ON c.id = tc.criterion_id
            JOIN tasks t ON t.id = c.task_id
            WHERE x.plan_id = $1 ORDER BY x.file_path
            """, [plan]).rows.map { "\(try $0.decode(String.self, 0)) \(try $0.decode(String.self, 1)) → task \(try $0.decode(Int.self, 2)) \(try $0.decode(String.self, 3))" }
        #expect(links == ["tests/test_cli.py must → task 2 must", "tests/test_cli_missing_file.py should → task 2 should",
                          "tests/test_counter.py must → task 1 must"])
        let code = try harness.connection.query("SELECT code FROM acceptance_tests WHERE plan_id = $1 AND file_path = 'tests/test_counter.py'",
                                                [plan]).first!.decode(String.self, 0)
        #expect(code == WordCountFixture.counterTest)

        // Version 1 with its snapshot and a history entry.
        let version = try harness.connection.query(
            "SELECT number, author, change_note, jsonb_array_length(snapshot->'acceptance_tests') FROM plan_versions WHERE plan_id = $1",
            [plan]).rows
        #expect(version.count == 1)
        #expect(try version[0].decode(Int.self, 0) == 1)
        #expect(try version[0].decode(String.self, 1) == "llm")
        #expect(try version[0].decode(String.self, 2) == "Generated from the request")
        #expect(try version[0].decode(Int.self, 3) == 3)
        #expect(try harness.count("SELECT count(*) FROM plan_history WHERE plan_id = $1 AND event = 'generated' AND actor = 'llm'", [plan]) == 1)

        // Events in order, ids increasing, each progress event with real counts.
        // A stage that takes longer than the progress interval (a loaded machine) reports more than
        // once before its final report; the order of the stages and their final reports is fixed.
        let events = try harness.events(plan: plan)
        let progressOf = { (event: GenerationHarness.StoredEvent) in event.type.hasSuffix("_tokens_progress") }
        let finalReports = events.filter { progressOf($0) && $0.payload["done"] == true }
        var collapsed: [String] = []
        for event in events where !(progressOf(event) && event.payload["done"] != true) {
            collapsed.append(event.type)
        }
        #expect(collapsed == [
            "discovery_generation_start", "discovery_tokens_progress", "discovery_generation_complete",
            "masterplan_generation_start", "masterplan_tokens_progress", "masterplan_tokens_progress",
            "plan_status_changed", "masterplan_generation_complete",
        ])
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.id < $1.id })
        let progress = finalReports
        #expect(progress.map { $0.payload["stage"]?.stringValue } == ["discovery", "plan", "acceptance_tests"])
        for event in progress {
            #expect(event.payload["done"] == true)
            #expect(event.payload["plan_id"]?.stringValue == plan.uuidString.lowercased())
            #expect((event.payload["characters"]?.intValue ?? 0) > 100)
            #expect((event.payload["output_tokens"]?.intValue ?? 0) > 0)
        }
        #expect(events.last?.payload["tests"] == 3)

        // Every call is in the ledger, attributed to the plan, its owner and the job.
        #expect(try harness.llmPurposes(plan: plan) == ["discovery", "masterplan", "acceptance_tests"])
        #expect(try harness.count("""
            SELECT count(*) FROM llm_calls l JOIN jobs j ON j.id = l.job_id
            WHERE l.plan_id = $1 AND l.owner_id = $2 AND j.kind = 'generation' AND l.status = 'ok' AND l.output_tokens > 0
            """, [plan, harness.owner]) == 3)
    }

    @Test func anInvalidPlanIsRepairedOnceAndStored() async throws {
        let plan = try harness.createPlan()
        try await harness.withModel([
            WordCountFixture.entry(.discovery, "discovery", WordCountFixture.discovery),
            WordCountFixture.entry(.masterplan, "masterplan", WordCountFixture.invalidPlan),
            WordCountFixture.entry(.planRepair, "plan_repair", WordCountFixture.plan),
            WordCountFixture.entry(.acceptanceTests, "acceptance_tests", WordCountFixture.acceptanceTests),
        ]) { client in
            try await harness.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()))
        }

        #expect(try harness.status(plan: plan).status == "draft")
        #expect(try harness.llmPurposes(plan: plan) == ["discovery", "masterplan", "plan_repair", "acceptance_tests"])
        let note = try harness.connection.query("SELECT change_note FROM plan_versions WHERE plan_id = $1", [plan]).first!
            .decode(String.self, 0)
        #expect(note == "Generated from the request (1 repair of the model's answer)")
        // One repair call (the ledger above); its progress events (one, or more when the answer took
        // longer than the progress interval on a loaded machine) all name attempt 2 and its problems.
        let repair = try harness.events(plan: plan).filter { $0.payload["stage"] == "plan_repair" }
        #expect(!repair.isEmpty)
        #expect(repair.allSatisfy { $0.payload["attempt"] == 2 && $0.payload["problems"] == 2 })
        // The stored tree is the repaired one.
        #expect(try harness.count("SELECT count(*) FROM tasks WHERE plan_id = $1 AND 'wordcount/cli.py' = ANY(files)", [plan]) == 1)
    }

    @Test func aPlanThatStaysInvalidEndsInGenerationFailedWithTheReason() async throws {
        let conversation = try harness.makeConversation()
        let plan = try harness.createPlan(conversation: conversation)
        try await harness.withModel([
            WordCountFixture.entry(.discovery, "discovery", WordCountFixture.discovery),
            WordCountFixture.entry(.masterplan, "masterplan", WordCountFixture.invalidPlan),
            WordCountFixture.entry(.planRepair, "plan_repair", WordCountFixture.proseInsteadOfPlan),
            WordCountFixture.entry(.planRepair, "plan_repair", WordCountFixture.invalidPlan),
        ]) { client in
            // The handler returns normally: the daemon must not retry a hopeless generation.
            try await harness.runNextJob(try GenerationHandler(client: client, configuration: GenerationConfiguration(planRepairAttempts: 2), sandbox: try Sandbox()))
        }

        let state = try harness.status(plan: plan)
        #expect(state.status == "generation_failed")
        let reason = try #require(state.reason)
        #expect(reason.hasPrefix("The plan the model wrote was still invalid after 3 answers:"))
        #expect(reason.contains("task 7 does not exist"))
        #expect(try harness.llmPurposes(plan: plan) == ["discovery", "masterplan", "plan_repair", "plan_repair"])
        #expect(try harness.count("SELECT count(*) FROM jobs WHERE plan_id = $1 AND state = 'done'", [plan]) == 1)
        #expect(try harness.count("SELECT count(*) FROM phases WHERE plan_id = $1", [plan]) == 0)

        let events = try harness.events(plan: plan)
        #expect(Array(events.map(\.type).suffix(3)) == ["plan_status_changed", "masterplan_generation_failed", "chat_message"])
        let failed = try #require(events.first { $0.type == "masterplan_generation_failed" })
        #expect(failed.payload["reason"]?.stringValue == reason)
        #expect(failed.payload["stage"] == "plan")
        #expect(failed.payload["transient"] == false)
        let changed = try #require(events.last { $0.type == "plan_status_changed" })
        #expect(changed.payload["from"] == "generating")
        #expect(changed.payload["to"] == "generation_failed")
        #expect(try harness.count("SELECT count(*) FROM plan_history WHERE plan_id = $1 AND event = 'generation_failed' AND actor = 'system'",
                                  [plan]) == 1)

        // The conversation hears about it in plain words.
        let reply = try harness.connection.query(
            "SELECT content FROM messages WHERE conversation_id = $1 AND role = 'assistant'", [conversation]).first!.decode(String.self, 0)
        #expect(reply.hasPrefix("I could not generate the plan. The plan the model wrote was still invalid"))
        #expect(events.last?.conversationID == conversation)
    }

    @Test func invalidAcceptanceTestsAreCorrectedOnce() async throws {
        let plan = try harness.createPlan()
        try await harness.withModel([
            WordCountFixture.entry(.discovery, "discovery", WordCountFixture.discovery),
            WordCountFixture.entry(.masterplan, "masterplan", WordCountFixture.plan),
            WordCountFixture.entry(.acceptanceTests, "acceptance_tests", WordCountFixture.invalidAcceptanceTests),
            WordCountFixture.entry(.acceptanceTests, "acceptance_tests", WordCountFixture.acceptanceTests),
        ]) { client in
            try await harness.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()))
        }
        #expect(try harness.status(plan: plan).status == "draft")
        #expect(try harness.llmPurposes(plan: plan) == ["discovery", "masterplan", "acceptance_tests", "acceptance_tests"])
        #expect(try harness.count("SELECT count(*) FROM acceptance_tests WHERE plan_id = $1", [plan]) == 3)
    }

    @Test func anUnreachableProviderIsRetriedByTheDaemonUntilTheLastAttempt() async throws {
        let plan = try harness.createPlan()
        let outage = CassetteEntry(purpose: "discovery", key: "discovery", response: "",
                                   error: .init(status: 503, message: "scripted outage", type: "server_error"))
        try await harness.withModel([outage]) { client in
            let handler = try GenerationHandler(client: client, sandbox: try Sandbox())
            // Attempt 1 of 3: thrown back to the daemon; the plan waits in `generating`.
            await #expect(throws: GenerationFailure.self) { try await harness.runNextJob(handler) }
            #expect(try harness.status(plan: plan).status == "generating")

            // The last attempt gives up for good.
            try harness.connection.execute("UPDATE jobs SET state = 'queued', attempts = 2, lease_owner = NULL, lease_expires_at = NULL WHERE plan_id = $1",
                                           [plan])
            try await harness.runNextJob(handler)
        }
        let state = try harness.status(plan: plan)
        #expect(state.status == "generation_failed")
        // The reason quotes the provider's own message.
        #expect(state.reason == "The model's provider failed (HTTP 503) while writing the domain discovery; try again later. The provider said: “scripted outage”")
        #expect(try harness.events(plan: plan).last?.payload["transient"] == true)
    }

    @Test func aRunResumedAfterTheDiscoveryWasStoredDoesNotMakeItAgain() async throws {
        let plan = try harness.createPlan()
        // First run: the executor is asked to stop; the job stops at the checkpoint after the discovery.
        try await harness.withModel([WordCountFixture.entry(.discovery, "discovery", WordCountFixture.discovery)]) { client in
            await #expect(throws: JobContext.Interruption.executorStopping) {
                try await harness.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()), stopping: { true })
            }
        }
        #expect(try harness.status(plan: plan).status == "generating")
        #expect(try harness.count("SELECT count(*) FROM masterplans WHERE id = $1 AND discovery_id IS NOT NULL", [plan]) == 1)
        try harness.connection.execute("UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL WHERE plan_id = $1", [plan])

        // Second run: this model knows no discovery at all; asking it for one would fail the plan.
        try await harness.withModel([
            WordCountFixture.entry(.masterplan, "masterplan", WordCountFixture.plan),
            WordCountFixture.entry(.acceptanceTests, "acceptance_tests", WordCountFixture.acceptanceTests),
        ]) { client in
            try await harness.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()))
        }
        #expect(try harness.status(plan: plan).status == "draft")
        #expect(try harness.llmPurposes(plan: plan) == ["discovery", "masterplan", "acceptance_tests"])
        #expect(try harness.count("SELECT count(*) FROM discoveries", []) == 1)
        #expect(try harness.eventTypes(plan: plan).filter { $0.hasPrefix("discovery_generation") }
                == ["discovery_generation_start", "discovery_generation_complete"])
    }

    @Test func progressEventsCountWhatArrivedAndEndWithTheProvidersTokens() async throws {
        let plan = try harness.createPlan()
        let answer = WordCountFixture.discovery
        let events = try await harness.withModel([WordCountFixture.entry(.discovery, "discovery", answer, chunk: 200)]) { client in
            // No minimum interval: every chunk is reported, which shows what each report counts.
            let caller = ProgressReportingCaller(client: client, database: harness.database, interval: .zero)
            let result = try await caller.call(
                try PlanPrompts(configuration: .default).discovery(request: WordCountFixture.request), attribution: .none,
                report: .init(target: .discovery, ownerID: harness.owner, planID: plan, step: .discovery, attempt: 1))
            #expect(result.text == answer)
            return try harness.events(plan: plan)
        }
        let chunks = (answer.count + 199) / 200
        #expect(events.count == chunks + 1)
        #expect(events.allSatisfy { $0.type == "discovery_tokens_progress" && $0.payload["stage"] == "discovery" })
        let characters = events.compactMap { $0.payload["characters"]?.intValue }
        #expect(characters == (1...chunks).map { Int64(min($0 * 200, answer.count)) } + [Int64(answer.count)])
        #expect(events.dropLast().allSatisfy { $0.payload["done"] == false && $0.payload["output_tokens"] == nil })
        #expect(events.last?.payload["done"] == true)
        #expect(events.last?.payload["output_tokens"] == JSONValue(answer.utf8.count / 4))
        #expect(events.last?.payload["model"] == .string(WordCountFixture.model))
    }

    @Test func aPlanNoLongerGeneratingIsLeftAlone() async throws {
        let plan = try harness.createPlan()
        try harness.connection.execute("UPDATE masterplans SET status = 'generation_failed', status_reason = 'given up' WHERE id = $1", [plan])
        // No cassette entries: any call would be a miss.
        try await harness.withModel([]) { client in
            try await harness.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()))
        }
        #expect(try harness.status(plan: plan).status == "generation_failed")
        #expect(try harness.llmPurposes(plan: plan).isEmpty)
        #expect(try harness.events(plan: plan).isEmpty)
    }

    @Test func aConversationPlanRunThroughTheDaemonEndsWithAnAssistantMessage() async throws {
        let conversation = try harness.makeConversation()
        let plan = try harness.createPlan(conversation: conversation)
        try await harness.withModel(WordCountFixture.happyPath) { client in
            let daemon = ExecutorDaemon(
                configuration: .init(conninfo: harness.conninfo, jobSlots: 2, pollInterval: .milliseconds(100), retryDelay: .zero,
                                     owner: "generation-test"),
                handlers: [try GenerationHandler(client: client, sandbox: try Sandbox()), RegenerationHandler(generator: try PlanGenerator(client: client, sandbox: try Sandbox())), try ChatHandler(client: client)])
            let running = Task { await daemon.run() }
            var done = false
            for _ in 0..<300 where !done {
                try await Task.sleep(for: .milliseconds(50))
                done = try harness.count("SELECT count(*) FROM jobs WHERE plan_id = $1 AND state = 'done'", [plan]) == 1
            }
            daemon.stop()
            await running.value
            #expect(done)
        }
        #expect(try harness.status(plan: plan).status == "draft")
        let messages = try harness.connection.query(
            "SELECT role, content FROM messages WHERE conversation_id = $1 ORDER BY seq", [conversation]).rows
        #expect(messages.count == 2)
        #expect(try messages[1].decode(String.self, 0) == "assistant")
        let text = try messages[1].decode(String.self, 1)
        #expect(text.hasPrefix("The plan “wordcount” is ready for review. It has 3 tasks in 2 phases and 3 acceptance tests (2 must pass)."))
        let events = try harness.events(plan: plan)
        #expect(Array(events.map(\.type).suffix(3)) == ["plan_status_changed", "masterplan_generation_complete", "chat_message"])
        let chat = try #require(events.last)
        #expect(chat.conversationID == conversation)
        #expect(chat.payload["conversation_id"]?.stringValue == conversation.uuidString.lowercased())
        #expect(chat.payload["message"]?["role"] == "assistant")
        #expect(chat.payload["message"]?["content"]?.stringValue == text)
    }

    // MARK: - Regeneration

    @Test func regenerationWithFeedbackStoresVersionTwoWithTheFeedbackInItsHistory() async throws {
        let plan = try harness.createPlan()
        let feedback = "Also print a total line when several files are given."
        try await harness.withModel(WordCountFixture.happyPath + [
            WordCountFixture.entry(.masterplan, "masterplan", WordCountFixture.regeneratedPlan),
            WordCountFixture.entry(.acceptanceTests, "acceptance_tests", WordCountFixture.acceptanceTests),
        ]) { client in
            try await harness.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()))
            #expect(try harness.status(plan: plan).status == "draft")

            // What `POST /masterplans/{id}/regenerate` does.
            try harness.connection.transaction { c in
                let plans = PlanQueries(c)
                _ = try plans.changeStatus(id: plan, from: "draft", to: "generating", reason: nil)
                try plans.appendHistory(planID: plan, actor: "user", actorID: harness.owner, event: "regeneration_requested",
                                        data: ["feedback": .string(feedback)])
                _ = try JobQueue(c).enqueue(.regeneration, planID: plan, payload: ["feedback": .string(feedback), "version": 1])
            }
            try await harness.runNextJob(RegenerationHandler(generator: try PlanGenerator(client: client, sandbox: try Sandbox())))
        }

        let state = try harness.status(plan: plan)
        #expect(state.status == "draft")
        #expect(state.version == 2)
        let summary = try harness.connection.query("SELECT summary FROM masterplans WHERE id = $1", [plan]).first!.decode(String.self, 0)
        #expect(summary.hasSuffix("and their total when several are given."))
        let versions = try harness.connection.query("SELECT number, change_note FROM plan_versions WHERE plan_id = $1 ORDER BY number",
                                                    [plan]).rows
        #expect(try versions.map { try $0.decode(Int.self, 0) } == [1, 2])
        #expect(try versions[1].decode(String.self, 1) == "Regenerated from version 1 with the reviewer's feedback: \(feedback)")
        let history = try harness.connection.query(
            "SELECT data FROM plan_history WHERE plan_id = $1 AND event = 'generated' ORDER BY id", [plan]).rows
        #expect(history.count == 2)
        #expect(try history[1].decode(JSONValue.self, 0)["note"]?.stringValue?.contains(feedback) == true)
        #expect(try history[1].decode(JSONValue.self, 0)["version"] == 2)
        // The discovery is reused: one discovery call for both versions.
        #expect(try harness.llmPurposes(plan: plan) == ["discovery", "masterplan", "acceptance_tests", "masterplan", "acceptance_tests"])
        let start = try #require(try harness.events(plan: plan).last { $0.type == "masterplan_generation_start" })
        #expect(start.payload["regeneration"] == true)
        #expect(start.payload["from_version"] == 1)
        #expect(start.payload["feedback"]?.stringValue == feedback)
        // The old tree was replaced, not added to.
        #expect(try harness.count("SELECT count(*) FROM tasks WHERE plan_id = $1", [plan]) == 3)
        #expect(try harness.count("SELECT count(*) FROM acceptance_tests WHERE plan_id = $1", [plan]) == 3)
    }

    /// A regeneration whose model returns the plan and tests it started from says so: in the version's
    /// change note, the history, the completion event and the conversation.
    @Test func aRegenerationThatReturnedTheSamePlanSaysSo() async throws {
        let conversation = try harness.makeConversation()
        let plan = try harness.createPlan(conversation: conversation)
        try await harness.withModel(WordCountFixture.happyPath) { client in
            try await harness.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()))
            try harness.connection.transaction { c in
                _ = try PlanQueries(c).changeStatus(id: plan, from: "draft", to: "generating", reason: nil)
                _ = try JobQueue(c).enqueue(.regeneration, planID: plan, payload: ["feedback": "shorter, please", "version": 1])
            }
            try await harness.runNextJob(RegenerationHandler(generator: try PlanGenerator(client: client, sandbox: try Sandbox())))
        }
        #expect(try harness.status(plan: plan).version == 2)
        let note = try harness.connection.query("SELECT change_note FROM plan_versions WHERE plan_id = $1 AND number = 2", [plan])
            .first!.decode(String.self, 0)
        #expect(note == "Regenerated from version 1 with the reviewer's feedback: shorter, please: the model returned the same plan as version 1")
        let complete = try #require(try harness.events(plan: plan).last { $0.type == "masterplan_generation_complete" })
        #expect(complete.payload["same_as_version"] == 1)
        let reply = try harness.connection.query(
            "SELECT content FROM messages WHERE conversation_id = $1 AND role = 'assistant' ORDER BY created_at DESC LIMIT 1", [conversation])
            .first!.decode(String.self, 0)
        #expect(reply.hasPrefix("Version 2 of the plan “wordcount” is the same as version 1"))
        // A first generation is never "the same".
        let first = try #require(try harness.events(plan: plan).first { $0.type == "masterplan_generation_complete" })
        #expect(first.payload["same_as_version"] == nil)
    }

    /// A conversation the review UI titled with the request is named after the plan it started, and a
    /// second one with the same project gets "(2)": plans and conversations read apart in the lists. A
    /// title someone chose is kept.
    @Test func conversationsAreNamedAfterTheirPlans() async throws {
        func conversation(titled title: String) throws -> UUID {
            try harness.connection.query("INSERT INTO conversations (owner_id, title) VALUES ($1, $2) RETURNING id",
                                         [harness.owner, title]).first!.decode(UUID.self, 0)
        }
        let first = try conversation(titled: String(WordCountFixture.request.prefix(80)))
        let second = try conversation(titled: String(WordCountFixture.request.prefix(80)))
        let chosen = try conversation(titled: "my word counter")
        for id in [first, second, chosen] {
            _ = try harness.createPlan(conversation: id)
            try await harness.withModel(WordCountFixture.happyPath) { client in
                try await harness.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()))
            }
        }
        let titles = try [first, second, chosen].map {
            try harness.connection.query("SELECT title FROM conversations WHERE id = $1", [$0]).first!.decode(String.self, 0)
        }
        #expect(titles == ["wordcount", "wordcount (2)", "my word counter"])
    }
}
