@testable import Engine
import Foundation
import JSON
import LLM
import PlanCore
import Postgres
import Store
import Testing
import TestSupport

/// When a plan may say `completed`, through the real executor: only when its final gate ran on the
/// commit that holds exactly the accepted content, and then as `verified` or, with waived tests,
/// `accepted_with_waivers` — never one for the other.
@Suite(.dedicatedThreads, .serialized) struct CompletionTests {
    let harness: ExecutionHarness
    var connection: Connection { harness.connection }

    init() throws {
        harness = try ExecutionHarness()
    }

    func status(_ plan: UUID) throws -> String { try harness.generation.status(plan: plan).status }

    func count(_ sql: String, _ parameters: [any PostgresBindable]) throws -> Int {
        try connection.query(sql, parameters).first!.decode(Int.self, 0)
    }

    func verification(_ plan: UUID) throws -> String? {
        try connection.query("SELECT verification FROM masterplans WHERE id = $1", [plan]).first!.decode(String?.self, 0)
    }

    func head(_ plan: UUID) throws -> String {
        try hostRun("/usr/bin/git", ["-C", harness.workspace(plan), "rev-parse", "HEAD"],
                    environment: ["HOME": "/tmp", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func committed(_ plan: UUID, _ path: String) throws -> String {
        try hostRun("/usr/bin/git", ["-C", harness.workspace(plan), "show", "HEAD:" + path],
                    environment: ["HOME": "/tmp", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"]).output
    }

    /// Every atom goes to a (non-blocking) low-confidence review, so the plan waits at its end with
    /// every wave passed. Returns the plan and its pending reviews by file.
    func planWaitingForItsReviews() async throws -> (UUID, [String: UUID]) {
        let plan = try await harness.approvedPlan()
        var policy = ConfidencePolicy.default
        policy.reviewThreshold = 0.99
        try await harness.execute(ExecutionHarness.atoms() + [ExecutionHarness.suggestions("*")], settings: harness.settings(confidence: policy))
        #expect(try status(plan) == "blocked")
        #expect(try count("SELECT count(*) FROM waves WHERE plan_id = $1 AND status = 'passed'", [plan]) == 3)
        var reviews: [String: UUID] = [:]
        for row in try connection.query(
            "SELECT a.file_path, r.id FROM reviews r JOIN atoms a ON a.id = r.atom_id WHERE r.plan_id = $1 AND r.status = 'pending'",
            [plan]).rows {
            reviews[try row.decode(String.self, 0)] = try row.decode(UUID.self, 1)
        }
        #expect(reviews.count == 5)
        return (plan, reviews)
    }

    /// A MUST test that imports nothing from the code it covers passes with the code gone: at the gate it
    /// counts as failing, with the reason, no repair round is spent on it, and the plan blocks — even
    /// when a person kept it at approval and the code itself is right.
    @Test func aMustTestThatPassesWithoutItsCodeDoesNotCount() async throws {
        var tests = WordCountFixture.acceptanceTestsJSON["tests"]?.arrayValue ?? []
        tests[0] = ["name": "test_count_text_counts_lines_words_and_characters", "priority": "must", "covers": [1],
                    "file": "tests/test_counter.py",
                    "code": "def test_count_text_counts_lines_words_and_characters():\n    assert len(\"one two\".split()) == 2\n"]
        let plan = try await harness.approvedPlan(generationAnswers: [
            WordCountFixture.entry(.discovery, "discovery", WordCountFixture.discovery),
            WordCountFixture.entry(.masterplan, "masterplan", WordCountFixture.plan),
            WordCountFixture.entry(.acceptanceTests, "acceptance_tests", JSONValue(["tests": .array(tests)]).jsonText),
        ])
        #expect(try count("SELECT count(*) FROM acceptance_tests WHERE plan_id = $1 AND cannot_fail", [plan]) == 1)
        try await harness.execute(ExecutionHarness.atoms() + [ExecutionHarness.suggestions("*")])

        #expect(try status(plan) == "blocked")
        #expect(try verification(plan) == nil)
        let gate = try #require(try connection.query(
            """
            SELECT r.status, r.reason FROM test_runs r JOIN acceptance_tests t ON t.id = r.test_id
            WHERE r.plan_id = $1 AND r.kind = 'gate' AND t.name = 'test_count_text_counts_lines_words_and_characters'
            ORDER BY r.created_at LIMIT 1
            """, [plan]).first)
        #expect(try gate.decode(String.self, 0) == "fail")
        #expect(try gate.decode(String?.self, 1)?.contains("proves nothing") == true)
        #expect(try count("SELECT count(*) FROM test_runs WHERE plan_id = $1 AND kind = 'mutation' AND status = 'pass'", [plan]) == 1)
        #expect(try count("SELECT count(*) FROM atom_attempts WHERE plan_id = $1 AND origin = 'gate_repair'", [plan]) == 0)
    }

    @Test func aPlanThatPassedEveryGateCompletesVerifiedOnTheArchivedCommit() async throws {
        let plan = try await harness.approvedPlan()
        try await harness.execute(ExecutionHarness.atoms())
        #expect(try status(plan) == "completed")
        #expect(try verification(plan) == "verified")
        // The time it took is recorded on completion: from the start of execution to its end.
        let took = try #require(try connection.query(
            "SELECT actual_duration_seconds, floor(extract(epoch FROM completed_at - started_at))::int FROM masterplans WHERE id = $1",
            [plan]).first)
        #expect(try took.decode(Int?.self, 0) == took.decode(Int.self, 1))
        // Every task is completed and every atom accepted (none waits for a review).
        #expect(try count("SELECT count(*) FROM masterplans WHERE id = $1 AND completed_tasks = total_tasks AND completed_atoms = total_atoms", [plan]) == 1)
        let final = try #require(try connection.query(
            "SELECT commit_sha FROM gate_results WHERE plan_id = $1 AND final ORDER BY created_at DESC LIMIT 1", [plan]).first)
        #expect(try final.decode(String?.self, 0) == head(plan), "the final gate ran on the commit the archive is made from")
        let complete = try #require(try harness.generation.events(plan: plan).last { $0.type == "masterplan_execution_complete" })
        #expect(complete.payload["verification"] == "verified")
        #expect(complete.payload["waivers"] == [])

        // The evidence: per task its files with the accepted attempt's validators, and every run of the
        // tests that cover it, per test id, with the mutation run of each MUST test.
        let evidence = try #require(try PlanQueries(connection).evidence(planID: plan))
        #expect(evidence["verification"] == "verified")
        #expect(evidence["final_gate"]?["commit"]?.stringValue == (try head(plan)))
        let task1 = try #require(evidence["tasks"]?[0])
        #expect(task1["files"]?.arrayValue?.compactMap { $0["path"]?.stringValue } == ["wordcount/__init__.py", "wordcount/counter.py"])
        #expect(task1["files"]?[1]?["accepted_attempt"]?["validation"]?.arrayValue?.contains { $0["name"] == "pyflakes" && $0["passed"] == true } == true)
        let runs = try #require(task1["tests"]?[0]?["runs"]?.arrayValue)
        #expect(runs.contains { $0["kind"] == "gate" && $0["status"] == "pass"
            && $0["cases"]?[0]?["id"] == "tests/test_counter.py::test_count_text_counts_lines_words_and_characters" })
        #expect(runs.contains { $0["kind"] == "mutation" && $0["status"] != "pass" })
    }

    /// A reviewer's edit after the last gate used to be accepted without a test or a commit, and the plan
    /// completed with an archive that did not hold it. Now the edit is committed and every test runs on
    /// that commit first: broken content blocks the plan.
    @Test func contentAcceptedAfterTheLastGateIsCommittedAndGatedBeforeThePlanCanComplete() async throws {
        let (plan, reviews) = try await planWaitingForItsReviews()
        let broken = WordCountFixture.brokenCounter
        for (path, review) in reviews {
            if path == "wordcount/counter.py" {
                try harness.resolve(review: review, as: "edited", content: broken)
            } else {
                try harness.resolve(review: review, as: "approved")
            }
        }
        try await harness.execute([ExecutionHarness.suggestions("*")])

        #expect(try status(plan) == "blocked")
        #expect(try verification(plan) == nil)
        #expect(try committed(plan, "wordcount/counter.py") == broken, "the accepted edit is committed")
        #expect(try harness.commits(plan).last == "final gate: accepted content after the last gate")
        let gate = try #require(try connection.query(
            "SELECT passed, commit_sha FROM gate_results WHERE plan_id = $1 AND final ORDER BY created_at DESC LIMIT 1", [plan]).first)
        #expect(try gate.decode(Bool.self, 0) == false)
        #expect(try gate.decode(String?.self, 1) == head(plan))
        #expect(try count("SELECT count(*) FROM reviews WHERE plan_id = $1 AND status = 'pending' AND blocking", [plan]) >= 1)
        #expect(try count("SELECT count(*) FROM plan_history WHERE plan_id = $1 AND event = 'final_gate'", [plan]) == 1)
    }

    @Test func aGoodEditAfterTheLastGateCompletesVerifiedWithTheEditCommitted() async throws {
        let (plan, reviews) = try await planWaitingForItsReviews()
        let edited = "# Reviewed.\n" + ExecutionHarness.reference("wordcount/counter.py")
        for (path, review) in reviews {
            try harness.resolve(review: review, as: path == "wordcount/counter.py" ? "edited" : "approved",
                                content: path == "wordcount/counter.py" ? edited : nil)
        }
        try await harness.execute([])
        #expect(try status(plan) == "completed")
        #expect(try verification(plan) == "verified")
        #expect(try committed(plan, "wordcount/counter.py") == edited)
        #expect(try connection.query("SELECT commit_sha FROM gate_results WHERE plan_id = $1 AND final ORDER BY created_at DESC LIMIT 1",
                                     [plan]).first!.decode(String?.self, 0) == head(plan))
    }

    /// Approvals change nothing: the gated commit is still the head, and no final gate runs again.
    @Test func approvalsOnlyCompleteVerifiedWithoutAnotherGate() async throws {
        let (plan, reviews) = try await planWaitingForItsReviews()
        let gatesBefore = try count("SELECT count(*) FROM gate_results WHERE plan_id = $1", [plan])
        for review in reviews.values { try harness.resolve(review: review, as: "approved") }
        try await harness.execute([])
        #expect(try status(plan) == "completed")
        #expect(try verification(plan) == "verified")
        #expect(try count("SELECT count(*) FROM gate_results WHERE plan_id = $1", [plan]) == gatesBefore)
    }

    /// A failing MUST test accepted with a reason: the plan completes, but as accepted with waivers,
    /// and says which test, why, who and when.
    @Test func aWaivedFinalGateCompletesAcceptedWithWaiversAndSaysSo() async throws {
        let (plan, reviews) = try await planWaitingForItsReviews()
        for (path, review) in reviews {
            try harness.resolve(review: review, as: path == "wordcount/counter.py" ? "edited" : "approved",
                                content: path == "wordcount/counter.py" ? WordCountFixture.brokenCounter : nil)
        }
        try await harness.execute([ExecutionHarness.suggestions("*")])
        #expect(try status(plan) == "blocked")
        let blocking = try connection.query("SELECT id FROM reviews WHERE plan_id = $1 AND status = 'pending' AND blocking", [plan]).rows
            .map { try $0.decode(UUID.self, 0) }
        #expect(!blocking.isEmpty)
        for review in blocking {
            try harness.resolve(review: review, as: "waived", waiverReason: "newlines in words are out of scope for this release")
        }
        try await harness.execute([])

        #expect(try status(plan) == "completed")
        #expect(try verification(plan) == "accepted_with_waivers")
        let complete = try #require(try harness.generation.events(plan: plan).last { $0.type == "masterplan_execution_complete" })
        #expect(complete.payload["verification"] == "accepted_with_waivers")
        let waivers = try #require(complete.payload["waivers"]?.arrayValue)
        // The broken counter fails the counting test and, through it, the command line's test.
        #expect(waivers.compactMap { $0["name"]?.stringValue }.sorted()
            == ["test_cli_prints_counts_and_file_name", "test_count_text_counts_lines_words_and_characters"])
        #expect(waivers.first?["reason"] == "newlines in words are out of scope for this release")
        #expect(waivers.first?["waived_by"]?.stringValue == harness.generation.owner.uuidString.lowercased())
        #expect(try count("SELECT count(*) FROM waves WHERE plan_id = $1 AND status = 'waived'", [plan]) == 1)
    }
}
