@testable import Engine
import Foundation
import JSON
import LLM
import PlanCore
import Postgres
import Store
import Testing
import TestSupport

/// The execution job end to end: a real plan (generated through the scripted model), real files in
/// a git workspace, real validators and real pytest acceptance tests in bubblewrap, Gate S, repair
/// rounds and reviews.
@Suite(.dedicatedThreads, .serialized) struct ExecutionHandlerTests {
    let harness: ExecutionHarness
    var connection: Connection { harness.connection }

    init() throws {
        harness = try ExecutionHarness()
    }

    func count(_ sql: String, _ parameters: [any PostgresBindable]) throws -> Int {
        try connection.query(sql, parameters).first!.decode(Int.self, 0)
    }

    func status(_ plan: UUID) throws -> String { try harness.generation.status(plan: plan).status }

    func executionEvents(_ plan: UUID) throws -> [GenerationHarness.StoredEvent] {
        let first = try harness.generation.events(plan: plan).firstIndex { $0.type == "masterplan_execution_start" } ?? 0
        return Array(try harness.generation.events(plan: plan)[first...])
    }

    func atom(_ plan: UUID, _ path: String) throws -> (id: UUID, status: String, attempts: Int, confidence: Double?) {
        let row = try connection.query("SELECT id, status, attempts, confidence FROM atoms WHERE plan_id = $1 AND file_path = $2",
                                       [plan, path]).first!
        return (try row.decode(UUID.self, 0), try row.decode(String.self, 1), try row.decode(Int.self, 2), try row.decode(Double?.self, 3))
    }

    @Test func aSmallPythonPlanRunsToCompletedWithRealFilesPassingTestsAndOneCommitPerWave() async throws {
        let plan = try await harness.approvedPlan()
        try await harness.execute(ExecutionHarness.atoms())

        #expect(try status(plan) == "completed")
        for (path, content) in WordCountFixture.files {
            #expect(harness.read(plan, path) == content, "\(path) holds the accepted content")
        }
        #expect(try harness.commits(plan) == ["wave 1: 2 atoms", "wave 2: 2 atoms", "wave 3: 1 atom"])
        #expect(try count("SELECT count(*) FROM waves WHERE plan_id = $1 AND status = 'passed' AND commit_sha IS NOT NULL", [plan]) == 3)
        #expect(try count("SELECT count(*) FROM atoms WHERE plan_id = $1 AND status = 'succeeded' AND attempts = 1", [plan]) == 5)
        #expect(try count("SELECT count(*) FROM tasks WHERE plan_id = $1 AND status = 'completed'", [plan]) == 3)
        // The plan's counters (completed_atoms kept by the atoms_count_completed trigger) agree with the rows.
        #expect(try count("SELECT count(*) FROM masterplans WHERE id = $1 AND completed_atoms = 5 AND total_atoms = 5 "
                          + "AND completed_tasks = 3 AND failed_tasks = 0", [plan]) == 1)
        // Every test ran against the frozen code and passed; the final wave ran all three.
        #expect(try count("SELECT count(*) FROM test_runs WHERE plan_id = $1 AND kind = 'gate' AND status <> 'pass'", [plan]) == 0)
        #expect(try count("SELECT count(DISTINCT test_id) FROM test_runs WHERE plan_id = $1", [plan]) == 3)
        // Each MUST test also ran without the files of its task, and failed there: it proves something.
        // Its verdict is kept and not repeated while those files do not change.
        #expect(try count("SELECT count(*) FROM test_runs WHERE plan_id = $1 AND kind = 'mutation' AND status = 'pass'", [plan]) == 0)
        #expect(try count("SELECT count(DISTINCT test_id) FROM test_runs WHERE plan_id = $1 AND kind = 'mutation'", [plan]) == 2)
        #expect(try count("SELECT count(*) FROM test_runs WHERE plan_id = $1 AND kind = 'mutation'", [plan]) == 2)
        // Every gate run carries the per-test verdicts of the harness's report.
        #expect(try count("SELECT count(*) FROM test_runs WHERE plan_id = $1 AND kind = 'gate' AND jsonb_array_length(cases) = 0", [plan]) == 0)
        #expect(try count("SELECT count(*) FROM gate_results WHERE plan_id = $1 AND passed", [plan]) == 3)

        let events = try executionEvents(plan)
        let types = events.map(\.type)
        #expect(types.first == "masterplan_execution_start")
        #expect(types.last == "masterplan_execution_complete")
        #expect(types.filter { $0 == "wave_execution_start" }.count == 3)
        #expect(types.filter { $0 == "wave_execution_complete" }.count == 3)
        #expect(types.filter { $0 == "atom_execution_complete" }.count == 5)
        #expect(types.filter { $0 == "atom_execution_progress" }.count == 5)
        #expect(types.filter { $0 == "gate_validation_result" }.count == 3)
        #expect(types.filter { $0 == "acceptance_test_result" }.count >= 3)
        // Each wave starts after the previous one completed.
        let order = types.filter { $0 == "wave_execution_start" || $0 == "wave_execution_complete" }
        #expect(order == ["wave_execution_start", "wave_execution_complete", "wave_execution_start", "wave_execution_complete",
                          "wave_execution_start", "wave_execution_complete"])
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.id < $1.id })
        #expect(types.contains("plan_status_changed"))
    }

    @Test func anAtomThatFailsValidationSucceedsOnRetryWithTheErrorsInItsPrompt() async throws {
        let plan = try await harness.approvedPlan()
        let broken = "from typing import NamedTuple\n\ndef count_text(text:\n    return None\n"
        try await harness.execute(ExecutionHarness.atoms(overriding: [
            "wordcount/counter.py": [ExecutionHarness.atom("wordcount/counter.py", broken),
                                     ExecutionHarness.atom("wordcount/counter.py", ExecutionHarness.reference("wordcount/counter.py"))],
        ]))
        #expect(try status(plan) == "completed")
        let counter = try atom(plan, "wordcount/counter.py")
        #expect(counter.status == "succeeded")
        #expect(counter.attempts == 2)
        let attempts = try connection.query(
            "SELECT attempt, origin, temperature::float8, accepted, error_feedback, validation FROM atom_attempts WHERE atom_id = $1 ORDER BY attempt",
            [counter.id]).rows
        #expect(attempts.count == 2)
        #expect(try attempts[0].decode(String.self, 1) == "generate")
        #expect(try attempts[0].decode(Double.self, 2) == 0.7)
        #expect(try attempts[0].decode(Bool.self, 3) == false)
        #expect(try attempts[0].decode(String?.self, 4)?.isEmpty == false)
        #expect(try attempts[1].decode(String.self, 1) == "retry")
        #expect(try attempts[1].decode(Double.self, 2) == 0.5)
        #expect(try attempts[1].decode(Bool.self, 3) == true)
        // The confidence follows the second attempt: 0.40 + 0.30·(1 − 1/3) + 0.20·1.0 + 0.10·0.5.
        #expect(abs((counter.confidence ?? 0) - 0.85) < 0.0001)
        #expect(harness.read(plan, "wordcount/counter.py") == ExecutionHarness.reference("wordcount/counter.py"))
    }

    /// A structured answer cut after its first characters (as a gateway that splits the forced tool's
    /// input did) is never accepted: the attempt fails, and the schema's complaint is the next prompt's
    /// feedback; so is a whole document that leaves out a required member.
    @Test func anAnswerThatBreaksItsSchemaIsAFailedAttemptWithTheViolationsAsFeedback() async throws {
        let plan = try await harness.approvedPlan()
        let missingNotes = JSONValue(["file": "wordcount/counter.py", "content": .string(ExecutionHarness.reference("wordcount/counter.py"))]).jsonText
        try await harness.execute(ExecutionHarness.atoms(overriding: [
            "wordcount/counter.py": ["{", missingNotes,
                                     ExecutionHarness.atom("wordcount/counter.py", ExecutionHarness.reference("wordcount/counter.py"))],
        ]))
        #expect(try status(plan) == "completed")
        let counter = try atom(plan, "wordcount/counter.py")
        #expect(counter.attempts == 3)
        let attempts = try connection.query(
            "SELECT accepted, error_feedback FROM atom_attempts WHERE atom_id = $1 ORDER BY attempt", [counter.id]).rows
        #expect(attempts.count == 3)
        #expect(try attempts[0].decode(Bool.self, 0) == false)
        let cut = try attempts[0].decode(String?.self, 1) ?? ""
        #expect(cut.hasPrefix("The answer does not follow the requested JSON schema"), "\(cut)")
        let missing = try attempts[1].decode(String?.self, 1) ?? ""
        #expect(missing.contains("notes"), "\(missing)")
        #expect(try attempts[2].decode(Bool.self, 0) == true)
        // The calls that broke the schema are in the ledger as errors, with what they cost.
        let calls = try connection.query(
            "SELECT status FROM llm_calls WHERE plan_id = $1 AND purpose = 'atom' AND error LIKE '%does not follow its schema%'", [plan]).rows
        #expect(calls.count == 2)
    }

    /// A provider that refuses for a reason no retry fixes (here the account's quota is spent) fails
    /// the plan at once with its words; the job does not burn its other attempts on the same refusal.
    @Test func aSpentQuotaFailsThePlanAtOnceInTheProvidersWords() async throws {
        let plan = try await harness.approvedPlan()
        let key = AtomPrompts.key(taskNumber: 1, path: "wordcount/counter.py")
        let refusal = CassetteEntry(purpose: "atom", key: key, response: "",
                                    error: .init(status: 429, message: "You exceeded your current quota, please check your plan and billing details.",
                                                 type: "insufficient_quota"))
        try await harness.execute(ExecutionHarness.atoms().filter { $0.key != key } + [refusal])
        #expect(try status(plan) == "failed")
        let reason = try connection.query("SELECT status_reason FROM masterplans WHERE id = $1", [plan]).first!.decode(String.self, 0)
        #expect(reason.contains("no retry fixes"), "\(reason)")
        #expect(reason.contains("You exceeded your current quota"), "\(reason)")
        let jobs = try connection.query("SELECT state, attempts FROM jobs WHERE plan_id = $1 AND kind = 'execution'", [plan]).rows
        #expect(jobs.count == 1)
        #expect(try jobs.first?.decode(Int.self, 1) == 1, "one attempt, not three")
        #expect(try count("SELECT count(*) FROM llm_calls WHERE plan_id = $1 AND error LIKE '%quota%'", [plan]) == 1)
    }

    @Test func aFailingGateIsFixedByARepairRound() async throws {
        let plan = try await harness.approvedPlan()
        let clock = ContinuousClock()
        let started = clock.now
        let entries = ExecutionHarness.atoms(overriding: [
            "wordcount/counter.py": [ExecutionHarness.atom("wordcount/counter.py", WordCountFixture.brokenCounter)],
        ]) + [
            WordCountFixture.entry(.gateRepair, "task-1/wordcount/counter.py",
                                   ExecutionHarness.atom("wordcount/counter.py", ExecutionHarness.reference("wordcount/counter.py"))),
            WordCountFixture.entry(.gateRepair, "task-1/wordcount/__init__.py",
                                   ExecutionHarness.atom("wordcount/__init__.py", ExecutionHarness.reference("wordcount/__init__.py"))),
        ]
        try await harness.execute(entries)
        #expect(try status(plan) == "completed")
        let gates = try connection.query(
            """
            SELECT g.repair_round, g.passed FROM gate_results g JOIN waves w ON w.id = g.wave_id
            WHERE g.plan_id = $1 AND w.number = 1 ORDER BY g.repair_round
            """, [plan]).rows.map { (try $0.decode(Int.self, 0), try $0.decode(Bool.self, 1)) }
        #expect(gates.map(\.0) == [0, 1])
        #expect(gates.map(\.1) == [false, true])
        #expect(try harness.commits(plan).contains("wave 1: repair round 1"))
        #expect(try count("SELECT count(*) FROM atom_attempts WHERE plan_id = $1 AND origin = 'gate_repair' AND accepted", [plan]) == 2)
        #expect(try count("SELECT count(*) FROM test_runs WHERE plan_id = $1 AND kind = 'gate' AND status = 'fail'", [plan]) == 1)
        #expect(harness.read(plan, "wordcount/counter.py") == ExecutionHarness.reference("wordcount/counter.py"))
        let evidence = try #require(try PlanQueries(connection).evidence(planID: plan))
        #expect(evidence["verification"]?.stringValue == "verified")
        try StackEvidence.record("python", plan: plan, evidence: evidence, elapsed: clock.now - started, connection: connection)
    }

    /// A plan whose counter keeps failing its MUST test through every repair round: run until it is
    /// blocked. Returns the plan, the broken counter's answer and the cassette used.
    func planBlockedByItsGate() async throws -> (plan: UUID, broken: String, entries: [CassetteEntry]) {
        let plan = try await harness.approvedPlan()
        let broken = ExecutionHarness.atom("wordcount/counter.py", WordCountFixture.brokenCounter)
        let entries = ExecutionHarness.atoms(overriding: ["wordcount/counter.py": [broken]]) + [
            WordCountFixture.entry(.gateRepair, "task-1/wordcount/counter.py", broken),
            WordCountFixture.entry(.gateRepair, "task-1/wordcount/__init__.py",
                                   ExecutionHarness.atom("wordcount/__init__.py", ExecutionHarness.reference("wordcount/__init__.py"))),
            ExecutionHarness.suggestions("*"),
        ]
        try await harness.execute(entries)
        #expect(try status(plan) == "blocked")
        return (plan, broken, entries)
    }

    @Test func aGateThatKeepsFailingBlocksWithReviewsAndAHumanEditCompletesThePlan() async throws {
        let (plan, _, _) = try await planBlockedByItsGate()
        #expect(try count("SELECT count(*) FROM gate_results WHERE plan_id = $1 AND NOT passed", [plan]) == 3)
        #expect(try count("SELECT count(*) FROM waves WHERE plan_id = $1 AND status = 'failed'", [plan]) == 1)
        #expect(try count("SELECT count(*) FROM waves WHERE plan_id = $1 AND status = 'pending'", [plan]) == 2, "the next wave did not start")
        let reviews = try connection.query(
            """
            SELECT r.id, a.file_path, r.ai_suggestions FROM reviews r JOIN atoms a ON a.id = r.atom_id
            WHERE r.plan_id = $1 AND r.status = 'pending' AND r.blocking ORDER BY a.file_path
            """, [plan]).rows
        #expect(reviews.count == 2)
        #expect(try reviews.allSatisfy { try $0.decode(JSONValue?.self, 2)?["recommended_action"]?.stringValue == "approve" })

        // The reviewer fixes the counter by hand and accepts the package file.
        for row in reviews {
            let id = try row.decode(UUID.self, 0)
            if try row.decode(String.self, 1) == "wordcount/counter.py" {
                try harness.resolve(review: id, as: "edited", content: ExecutionHarness.reference("wordcount/counter.py"))
            } else {
                try harness.resolve(review: id, as: "approved")
            }
        }
        try await harness.execute(ExecutionHarness.atoms())
        #expect(try status(plan) == "completed")
        #expect(harness.read(plan, "wordcount/counter.py") == ExecutionHarness.reference("wordcount/counter.py"))
        #expect(try count("SELECT count(*) FROM atom_attempts WHERE plan_id = $1 AND origin = 'review_edit' AND accepted", [plan]) == 1)
        #expect(try count("SELECT count(*) FROM reviews WHERE plan_id = $1 AND applied_at IS NULL AND status <> 'pending'", [plan]) == 0)
        #expect(try atom(plan, "wordcount/counter.py").status == "approved")
    }

    @Test func aGateThatKeepsFailingIsWaivedWithRecordedReasonsAndTheNextWaveRuns() async throws {
        let (plan, broken, entries) = try await planBlockedByItsGate()
        let reviews = try connection.query(
            "SELECT r.id FROM reviews r WHERE r.plan_id = $1 AND r.status = 'pending' AND r.blocking ORDER BY r.created_at, r.id", [plan]).rows
            .map { try $0.decode(UUID.self, 0) }
        #expect(reviews.count == 2)

        // Both reviewers accept the wave as it is, each with a reason.
        let reasons = ["the counting test is wrong about empty lines; tracked in #12", "the package file is not at fault"]
        for (id, reason) in zip(reviews, reasons) { try harness.resolve(review: id, as: "waived", waiverReason: reason) }
        // (The final wave's gate runs every test again and still fails on the kept counter: its own
        // repair round and reviews follow, which a waiver of wave 1 does not cover; repairs of the
        // other files answer for the counter and are refused, leaving them as they are.)
        try await harness.execute(entries + [WordCountFixture.entry(.gateRepair, "*", broken)])

        // Wave 1 was waived — never shown as passed — with the reasons and the reviewer; the next wave ran.
        #expect(try count("SELECT count(*) FROM waves WHERE plan_id = $1 AND number = 1 AND status = 'waived'", [plan]) == 1)
        let waived = try connection.query(
            """
            SELECT t.name, w.reason, w.waived_by FROM test_waivers w JOIN acceptance_tests t ON t.id = w.test_id
            WHERE w.plan_id = $1
            """, [plan]).rows
        #expect(try waived.map { try $0.decode(String.self, 0) } == ["test_count_text_counts_lines_words_and_characters"])
        #expect(try waived.first?.decode(String.self, 1) == reasons.sorted().joined(separator: "\n"))
        #expect(try waived.first?.decode(UUID?.self, 2) == harness.generation.owner)
        #expect(try count("SELECT count(*) FROM waves WHERE plan_id = $1 AND number = 2 AND status <> 'pending'", [plan]) == 1)
        let history = try #require(try connection.query(
            "SELECT data, actor_id FROM plan_history WHERE plan_id = $1 AND event = 'gate_waived'", [plan]).first)
        #expect(try history.decode(JSONValue.self, 0)["waiver_reasons"] == JSONValue(reasons))
        #expect(try history.decode(UUID?.self, 1) == harness.generation.owner)
        #expect(harness.read(plan, "wordcount/counter.py") == WordCountFixture.brokenCounter, "a waiver keeps the code as it is")
        // A later wave's own failing gate blocks the plan again, with new reviews on that wave.
        #expect(try status(plan) == "blocked")
        #expect(try count("""
            SELECT count(*) FROM reviews r JOIN waves w ON w.id = r.wave_id
            WHERE r.plan_id = $1 AND r.status = 'pending' AND r.blocking AND w.number > 1
            """, [plan]) >= 1)
        #expect(try count("SELECT count(*) FROM reviews WHERE plan_id = $1 AND status = 'waived' AND applied_at IS NOT NULL", [plan]) == 2)
    }

    /// Approving the code of a wave whose MUST test fails is not a waiver: without a written reason the
    /// failing test is never accepted, the wave is gated again and blocks again.
    @Test func approvingTheReviewsOfAFailingGateWithoutAReasonWaivesNothing() async throws {
        let (plan, broken, entries) = try await planBlockedByItsGate()
        let reviews = try connection.query(
            "SELECT r.id FROM reviews r WHERE r.plan_id = $1 AND r.status = 'pending' AND r.blocking", [plan]).rows
            .map { try $0.decode(UUID.self, 0) }
        #expect(reviews.count == 2)
        for id in reviews { try harness.resolve(review: id, as: "approved") }
        try await harness.execute(entries + [WordCountFixture.entry(.gateRepair, "*", broken)])

        #expect(try status(plan) == "blocked")
        #expect(try count("SELECT count(*) FROM waves WHERE plan_id = $1 AND number = 1 AND status = 'failed'", [plan]) == 1)
        #expect(try count("SELECT count(*) FROM waves WHERE plan_id = $1 AND status IN ('passed', 'waived')", [plan]) == 0)
        #expect(try count("SELECT count(*) FROM test_waivers WHERE plan_id = $1", [plan]) == 0)
        #expect(try count("SELECT count(*) FROM plan_history WHERE plan_id = $1 AND event = 'gate_waived'", [plan]) == 0)
        // The gate ran again on the approved code, and new reviews wait.
        #expect(try count("SELECT count(*) FROM gate_results g JOIN waves w ON w.id = g.wave_id WHERE g.plan_id = $1 AND w.number = 1", [plan]) == 4)
        #expect(try count("SELECT count(*) FROM reviews WHERE plan_id = $1 AND status = 'pending' AND blocking", [plan]) >= 1)
    }

    @Test func aLowConfidenceAtomCreatesAReviewWithSuggestionsAndItsApprovalCompletesThePlan() async throws {
        let plan = try await harness.approvedPlan()
        let bad = ExecutionHarness.atom("wordcount/cli.py", "def main(argv:\n")
        var policy = ConfidencePolicy.default
        policy.reviewThreshold = 0.75
        try await harness.execute(ExecutionHarness.atoms(overriding: [
            "wordcount/cli.py": [bad, bad, ExecutionHarness.atom("wordcount/cli.py", ExecutionHarness.reference("wordcount/cli.py"))],
        ]) + [ExecutionHarness.suggestions("task-2/wordcount/cli.py")], settings: harness.settings(confidence: policy))

        // Three attempts of a medium task: 0.40 + 0.30·(1 − 2/3) + 0.20·0.8 + 0.10·0.5 = 0.71 < 0.75.
        let cli = try atom(plan, "wordcount/cli.py")
        #expect(cli.status == "needs_review")
        #expect(abs((cli.confidence ?? 0) - 0.71) < 0.0001)
        let review = try connection.query("SELECT id, priority, blocking, ai_suggestions FROM reviews WHERE atom_id = $1", [cli.id]).first!
        #expect(try review.decode(String.self, 1) == "medium")
        #expect(try review.decode(Bool.self, 2) == false)
        #expect(try review.decode(JSONValue.self, 3)["suggestions"]?[0]?["title"]?.stringValue == "Check missing files")
        // The low-confidence code is used (its wave and the next passed), but the plan waits for the review.
        #expect(try count("SELECT count(*) FROM waves WHERE plan_id = $1 AND status = 'passed'", [plan]) == 3)
        #expect(try status(plan) == "blocked")
        #expect(try harness.generation.eventTypes(plan: plan).contains("review_created"))

        try harness.resolve(review: try review.decode(UUID.self, 0), as: "approved")
        try await harness.execute([])
        #expect(try status(plan) == "completed")
        #expect(try atom(plan, "wordcount/cli.py").status == "approved")
    }

    @Test func hostileAnswersAreRefusedAndNothingIsWrittenOutsideTheWorkspace() async throws {
        let plan = try await harness.approvedPlan()
        let marker = "masterplan-hostile-\(UUID().uuidString.lowercased())"
        let huge = String(repeating: "# padding line of a very large file\n", count: 50_000_000 / 36)
        var hugeEntry = WordCountFixture.entry(.atom, "task-3/README.md", ExecutionHarness.atom("README.md", huge))
        hugeEntry.chunkCharacters = 8 << 20
        let entries = ExecutionHarness.atoms(overriding: [
            "README.md": [],
            "wordcount/__main__.py": [
                JSONValue(["file": "wordcount/__main__.py", "content": .string("import sys\u{0}\u{1}\u{2}binary"), "notes": ""]).jsonText,
                ExecutionHarness.atom("wordcount/__main__.py", ExecutionHarness.reference("wordcount/__main__.py")),
            ],
        ]) + [
            WordCountFixture.entry(.atom, "task-3/README.md", ExecutionHarness.atom("../../../../tmp/\(marker)", "escaped")),
            WordCountFixture.entry(.atom, "task-3/README.md", ExecutionHarness.atom("/tmp/\(marker)-absolute", "escaped")),
            hugeEntry,
            ExecutionHarness.suggestions("*"),
        ]
        try await harness.execute(entries)

        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)-absolute"))
        #expect(harness.read(plan, "README.md") == nil, "no refused content stays in the workspace")
        let readme = try atom(plan, "README.md")
        #expect(readme.status == "needs_review")
        let feedback = try connection.query(
            "SELECT error_feedback FROM atom_attempts WHERE atom_id = $1 ORDER BY attempt", [readme.id]).rows.map { try $0.decode(String.self, 0) }
        #expect(feedback.count == 3)
        #expect(feedback[0].contains("the file to write is README.md"))
        #expect(feedback[1].contains("the file to write is README.md"))
        #expect(feedback[2].contains("limit"))
        // The binary answer was refused, the retry accepted.
        #expect(try atom(plan, "wordcount/__main__.py").attempts == 2)
        #expect(harness.read(plan, "wordcount/__main__.py") == ExecutionHarness.reference("wordcount/__main__.py"))
        // README never validated: its wave is blocked by a blocking review, the plan waits.
        #expect(try status(plan) == "blocked")
        #expect(try count("SELECT count(*) FROM reviews WHERE atom_id = $1 AND blocking AND status = 'pending'", [readme.id]) == 1)
        #expect(try count("SELECT max(octet_length(output)) FROM atom_attempts WHERE atom_id = $1", [readme.id]) < 1 << 20)
    }

    @Test func aRejectedAtomFailsThePlanAndResumingRegeneratesItWithTheFeedback() async throws {
        let plan = try await harness.approvedPlan()
        var policy = ConfidencePolicy.default
        policy.reviewThreshold = 0.99
        try await harness.execute(ExecutionHarness.atoms() + [ExecutionHarness.suggestions("*")], settings: harness.settings(confidence: policy))
        #expect(try status(plan) == "blocked")
        let readme = try atom(plan, "README.md")
        let review = try connection.query("SELECT id FROM reviews WHERE atom_id = $1 AND status = 'pending'", [readme.id]).first!.decode(UUID.self, 0)
        try harness.resolve(review: review, as: "rejected", feedback: "Show two files in the example.")
        try await harness.execute([])
        #expect(try status(plan) == "failed")
        #expect(try atom(plan, "README.md").status == "rejected")
        #expect(try count("SELECT count(*) FROM tasks WHERE plan_id = $1 AND status = 'failed'", [plan]) == 1)
    }
}

extension ExecutionHandlerTests {
    /// The dependency-install step: requirements the system Python has are skipped, the others are
    /// installed from PyPI (the one sandboxed step with network) into the workspace, and the tests'
    /// environment puts them on PYTHONPATH.
    @Test func missingRequirementsAreInstalledIntoTheWorkspaceAndPutOnThePythonPath() async throws {
        let plan = try await harness.approvedPlan()
        try await harness.execute(ExecutionHarness.atoms())
        #expect(try status(plan) == "completed")
        try "PyJWT\ntomli-w==1.0.0  # not on this machine\n".write(toFile: harness.workspace(plan) + "/requirements.txt",
                                                                 atomically: true, encoding: .utf8)
        let run = try await installDependencies(of: plan)
        #expect(run.testEnvironment["PYTHONPATH"] == harness.workspace(plan) + "/.masterplan/site-packages")
        let history = try connection.query(
            "SELECT event, data FROM plan_history WHERE plan_id = $1 AND event LIKE 'dependenc%'", [plan]).rows
        #expect(history.count == 1)
        let detail = try history.first?.decode(JSONValue.self, 1).jsonText ?? "no history"
        #expect(try history.first?.decode(String.self, 0) == "dependencies_installed", "\(detail)")
        #expect(FileManager.default.fileExists(atPath: harness.workspace(plan) + "/.masterplan/site-packages/tomli_w/__init__.py"))
        #expect(!FileManager.default.fileExists(atPath: harness.workspace(plan) + "/.masterplan/site-packages/jwt"),
                "PyJWT comes from the system and is not installed again")
    }

    /// Runs the dependency-install step of the (completed) plan on its own, as an execution job would.
    /// With `index`, the fetch box uses that package index (`PIP_INDEX_URL`).
    func installDependencies(of plan: UUID, index: String? = nil) async throws -> PlanRun {
        _ = try JobQueue(connection).enqueue(.execution, planID: plan)
        let job = try harness.generation.claim(.execution)
        let context = JobContext(database: harness.generation.database, job: job, daemonStopping: { false })
        return try await harness.generation.withModel([]) { client in
            var settings = harness.settings()
            if let index { settings.packageIndexEnvironment = ["PIP_INDEX_URL": index] }
            let handler = ExecutionHandler(llm: client, sandbox: try Sandbox(), settings: settings)
            let run = try #require(try await PlanRun.load(planID: plan, handler: handler, context: context))
            try await run.installDependencies()
            return run
        }
    }

    /// A requirement naming a local folder would run that folder's build code with the network on: the
    /// install step refuses the whole manifest, says why, and runs nothing.
    @Test func requirementsThatAreNotIndexPackagesAreRefusedAndNothingRuns() async throws {
        let plan = try await harness.approvedPlan()
        try await harness.execute(ExecutionHarness.atoms())
        let folder = harness.workspace(plan) + "/evil_pkg"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "import pathlib; pathlib.Path('/tmp/masterplan-evil-setup-ran').write_text('x')\nfrom setuptools import setup; setup(name='evil')\n"
            .write(toFile: folder + "/setup.py", atomically: true, encoding: .utf8)
        try "tomli-w==1.0.0\n./evil_pkg\n-e git+https://example.invalid/x.git#egg=x\n".write(
            toFile: harness.workspace(plan) + "/requirements.txt", atomically: true, encoding: .utf8)
        _ = try await installDependencies(of: plan)
        let history = try #require(try connection.query(
            "SELECT event, data FROM plan_history WHERE plan_id = $1 AND event LIKE 'dependenc%'", [plan]).first)
        #expect(try history.decode(String.self, 0) == "dependency_install_failed")
        let refused = try history.decode(JSONValue.self, 1)["refused"]?.stringValue ?? ""
        #expect(refused.contains("line 2") && refused.contains("local paths"), "\(refused)")
        #expect(refused.contains("line 3") && refused.contains("pip options"), "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/masterplan-evil-setup-ran"))
        #expect(!FileManager.default.fileExists(atPath: harness.workspace(plan) + "/.masterplan/site-packages/tomli_w"))
    }
}

extension ExecutionHandlerTests {
    /// Crossing 80 % of the budget warns once; crossing 100 % pauses the plan once; resumed, it
    /// goes on past the budget and completes.
    @Test func theBudgetWarnsAt80PercentPausesAt100AndAResumedPlanGoesOn() async throws {
        let plan = try await harness.approvedPlan()
        let spent = try connection.query("SELECT actual_cost_usd::float8 FROM masterplans WHERE id = $1", [plan]).first!.decode(Double.self, 0)
        #expect(spent > 0, "generation was priced")
        // The budget is already 90 % used: the first check warns, the first atom's cost pauses.
        try connection.execute("UPDATE masterplans SET budget_usd = $2 WHERE id = $1", [plan, spent / 0.9])
        try await harness.execute(ExecutionHarness.atoms())
        #expect(try status(plan) == "paused")
        let types = try harness.generation.eventTypes(plan: plan)
        #expect(types.filter { $0 == "cost_warning" }.count == 1)
        #expect(try count("SELECT count(*) FROM plan_history WHERE plan_id = $1 AND event = 'budget_paused'", [plan]) == 1)
        #expect(try count("SELECT count(*) FROM atoms WHERE plan_id = $1 AND status = 'pending'", [plan]) >= 1)

        // The owner resumes (as POST …/resume does): the plan runs to the end without pausing again.
        try connection.transaction { c in
            _ = try PlanQueries(c).changeStatus(id: plan, from: "paused", to: "executing", reason: nil)
            _ = try JobQueue(c).ensureExecution(planID: plan, payload: ["resumed": true])
        }
        try await harness.execute(ExecutionHarness.atoms())
        #expect(try status(plan) == "completed")
        #expect(try harness.generation.eventTypes(plan: plan).filter { $0 == "cost_warning" }.count == 1)
    }

    /// A pause between atoms: the running atom finishes, no new one starts, the job ends; a resume
    /// carries on from the database without redoing accepted atoms.
    @Test func aPauseStopsBetweenAtomsAndAResumeCarriesOn() async throws {
        let plan = try await harness.approvedPlan()
        let slow = ExecutionHarness.atoms().map { entry -> CassetteEntry in
            var copy = entry
            copy.delay = .milliseconds(400)
            return copy
        }
        var settings = harness.settings()
        settings.concurrency = 1
        let finished = Task { try await harness.execute(slow, settings: settings) }
        // The harness's connection is busy with the job: watch and pause through another one.
        let watcher = try Connection(harness.generation.conninfo)
        for _ in 0..<400 {
            let done = try watcher.query("SELECT count(*) FROM atoms WHERE plan_id = $1 AND status = 'succeeded'", [plan])
                .first!.decode(Int.self, 0)
            if done >= 1 { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        try watcher.transaction { c in
            _ = try PlanQueries(c).changeStatus(id: plan, from: "executing", to: "paused", reason: "owner paused")
        }
        try await finished.value
        #expect(try status(plan) == "paused")
        let done = try count("SELECT count(*) FROM atoms WHERE plan_id = $1 AND status = 'succeeded'", [plan])
        #expect(done >= 1 && done < 5)
        #expect(try count("SELECT count(*) FROM atoms WHERE plan_id = $1 AND status = 'running'", [plan]) == 0)

        try connection.transaction { c in
            _ = try PlanQueries(c).changeStatus(id: plan, from: "paused", to: "executing", reason: nil)
            _ = try JobQueue(c).ensureExecution(planID: plan, payload: ["resumed": true])
        }
        try await harness.execute(ExecutionHarness.atoms(), settings: settings)
        #expect(try status(plan) == "completed")
        #expect(try count("SELECT count(*) FROM atom_attempts WHERE plan_id = $1", [plan]) == 5, "no accepted atom was redone")
    }
}
