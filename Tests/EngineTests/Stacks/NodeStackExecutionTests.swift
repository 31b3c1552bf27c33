@testable import Engine
import Foundation
import JSON
import LLM
import PlanCore
import Postgres
import Store
import Testing
import TestSupport

/// A Node.js plan from request to verified completion through the real generation and execution
/// handlers: real files, `node --check` and the import checks, the node:test acceptance tests under
/// `NodeHarness` in bubblewrap — one retry (a syntax error), one Gate S failure repaired (a wrong status
/// code), and `completed` with the plan verified.
@Suite(.dedicatedThreads, .serialized) struct NodeStackExecutionTests {
    let harness: ExecutionHarness
    var connection: Connection { harness.connection }

    init() throws {
        harness = try ExecutionHarness()
    }

    @Test func aNodeServiceRunsFromRequestToVerifiedWithARetryAndAGateRepair() async throws {
        let plan = try await harness.approvedPlan(generationAnswers: NotesAPIFixture.generation())
        let stack = try connection.query("SELECT tech_stack->>'test_command' FROM masterplans WHERE id = $1", [plan]).first!.decode(String.self, 0)
        #expect(stack == "node --test")
        let clock = ContinuousClock()
        let started = clock.now
        let entries = NotesAPIFixture.atoms(overriding: [
            "src/store.js": [NotesAPIFixture.atom("src/store.js", NotesAPIFixture.storeWithSyntaxError),
                             NotesAPIFixture.atom("src/store.js", NotesAPIFixture.storeSource)],
            "src/app.js": [NotesAPIFixture.atom("src/app.js", NotesAPIFixture.appSource(createdStatus: 200))],
        ]) + [
            NotesAPIFixture.entry(.gateRepair, "task-2/src/app.js", NotesAPIFixture.atom("src/app.js", NotesAPIFixture.reference("src/app.js"))),
            NotesAPIFixture.entry(.gateRepair, "task-2/src/server.js",
                                  NotesAPIFixture.atom("src/server.js", NotesAPIFixture.reference("src/server.js"))),
        ]
        try await harness.execute(entries)
        let elapsed = clock.now - started
        #expect(try harness.status(plan) == "completed")
        #expect(try harness.verification(plan) == "verified")

        // The retry: node --check refused the first store, the second was accepted.
        let refused = try harness.refusals(plan, "src/store.js")
        #expect(refused.count == 1)
        #expect(refused.first?.contains { $0.hasPrefix("node-check") } == true, "\(refused)")
        #expect(try harness.count("SELECT count(*) FROM atom_attempts x JOIN atoms a ON a.id = x.atom_id WHERE a.plan_id = $1 AND a.file_path = 'src/store.js' AND x.accepted", [plan]) == 1)

        // The gate repair: wave 2's MUST API test failed on the 200, passed after the repair.
        #expect(try harness.gates(plan) == ["wave 1 round 0: passed", "wave 2 round 0: failed", "wave 2 round 1: passed", "wave 3 round 0: passed"])
        let failed = try harness.gateOutputs(plan, test: "api", status: "fail")
        #expect(failed.count == 1)
        #expect(failed.first?.contains("200 !== 201") == true)
        #expect(try harness.count("SELECT count(*) FROM atom_attempts WHERE plan_id = $1 AND origin = 'gate_repair' AND accepted", [plan]) == 2)
        // Every MUST test also failed without its tasks' files (it proves something).
        #expect(try harness.count("SELECT count(*) FROM test_runs WHERE plan_id = $1 AND kind = 'mutation' AND status <> 'pass'", [plan]) >= 2)
        #expect(try harness.commits(plan).contains("wave 2: repair round 1"))
        #expect(harness.read(plan, "src/app.js") == NotesAPIFixture.reference("src/app.js"))

        let evidence = try #require(try PlanQueries(connection).evidence(planID: plan))
        #expect(evidence["verification"]?.stringValue == "verified")
        #expect(evidence["final_gate"]?["passed"]?.boolValue == true)
        try StackEvidence.record("node", plan: plan, evidence: evidence, elapsed: elapsed, connection: connection)
    }

    @Test func aNodeTestThatCannotFailIsFoundBeforeApproval() async throws {
        var tests = NotesAPIFixture.acceptanceTestsJSON
        tests = ["tests": .array((tests["tests"]?.arrayValue ?? []) + [
            ["name": "vacuous", "priority": "should", "covers": [1], "file": "test/vacuous.test.js",
             "code": "const test = require(\"node:test\");\nconst assert = require(\"node:assert\");\n\ntest(\"is fine\", () => {\n  assert.ok(true);\n});\n"],
        ])]
        let plan = try harness.generation.createPlan(request: NotesAPIFixture.request)
        try await harness.generation.withModel(NotesAPIFixture.generation(tests: tests)) { client in
            try await harness.generation.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()))
        }
        #expect(try harness.status(plan) == "draft")
        let flags = try connection.query("SELECT name, cannot_fail FROM acceptance_tests WHERE plan_id = $1 ORDER BY name", [plan]).rows
            .map { "\(try $0.decode(String.self, 0)) \(try $0.decode(Bool.self, 1))" }
        #expect(flags == ["api false", "errors false", "store false", "vacuous true"])
    }

    @Test func generatedCodeThatReachesForTheHarnessIsRefusedAndRetried() async throws {
        let plan = try await harness.approvedPlan(generationAnswers: NotesAPIFixture.generation())
        let tampering = "process.binding(\"fs\");\n" + NotesAPIFixture.storeSource
        let npm = NotesAPIFixture.storeSource.replacingOccurrences(of: "\"use strict\";\n", with: "\"use strict\";\nconst _ = require(\"lodash\");\n")
        try await harness.execute(NotesAPIFixture.atoms(overriding: [
            "src/store.js": [NotesAPIFixture.atom("src/store.js", tampering), NotesAPIFixture.atom("src/store.js", npm),
                             NotesAPIFixture.atom("src/store.js", NotesAPIFixture.storeSource)],
        ]))
        #expect(try harness.status(plan) == "completed")
        let failures = try harness.refusals(plan, "src/store.js")
        #expect(failures.count == 2)
        #expect(failures.first?.contains { $0.hasPrefix("tamper-check") && $0.contains("process.binding") } == true, "\(failures)")
        #expect(failures.last?.contains { $0.hasPrefix("imports") && $0.contains("lodash is an npm package") } == true, "\(failures)")
    }

    @Test func aPackageJSONThatNamesPackagesIsRefusedAtTheInstallStepWithTheReason() async throws {
        let plan = try await harness.approvedPlan(generationAnswers: NotesAPIFixture.generation())
        let manifest = NotesAPIFixture.reference("package.json").replacingOccurrences(
            of: "\"license\": \"MIT\"", with: "\"license\": \"MIT\",\n  \"dependencies\": { \"express\": \"^4.18.0\" }")
        try await harness.execute(NotesAPIFixture.atoms(overriding: ["package.json": [NotesAPIFixture.atom("package.json", manifest)]]))
        let history = try harness.history(plan, prefix: "dependenc")
        #expect(history.first?.event == "dependency_install_failed")
        let refused = history.first?.data["refused"]?.stringValue ?? ""
        #expect(refused.contains("package.json names npm packages (express)"), "\(refused)")
        // The project itself uses no package, so its tests still pass.
        #expect(try harness.status(plan) == "completed")
    }
}

/// Writes a stack run's evidence and timing to `MASTERPLAN_STACK_EVIDENCE` (a folder) when set, for the
/// figures people quote; nothing otherwise.
enum StackEvidence {
    static func record(_ stack: String, plan: UUID, evidence: JSONValue, elapsed: Duration, connection: Connection) throws {
        guard let folder = ProcessInfo.processInfo.environment["MASTERPLAN_STACK_EVIDENCE"] else { return }
        let runs = try connection.query("""
            SELECT r.kind, count(*), sum(r.duration_ms), max(r.duration_ms) FROM test_runs r WHERE r.plan_id = $1 GROUP BY r.kind ORDER BY r.kind
            """, [plan]).rows.map { row in
                JSONValue(["kind": .string(try row.decode(String.self, 0)), "runs": .int(Int64(try row.decode(Int.self, 1))),
                           "total_ms": .int(Int64(try row.decode(Int.self, 2))), "max_ms": .int(Int64(try row.decode(Int.self, 3)))])
            }
        // A gate's time: from its first test run's start to its verdict (mutation runs included).
        let gates = try connection.query("""
            SELECT w.number, g.repair_round, count(r.id),
                   (extract(epoch FROM g.created_at - min(r.created_at - r.duration_ms * interval '1 millisecond')) * 1000)::bigint
            FROM gate_results g JOIN waves w ON w.id = g.wave_id
            JOIN test_runs r ON r.wave_id = g.wave_id AND r.repair_round = g.repair_round
            WHERE g.plan_id = $1 GROUP BY w.number, g.repair_round, g.created_at ORDER BY w.number, g.repair_round
            """, [plan]).rows.map { row in
                JSONValue(["wave": .int(Int64(try row.decode(Int.self, 0))), "round": .int(Int64(try row.decode(Int.self, 1))),
                           "test_runs": .int(Int64(try row.decode(Int.self, 2))), "ms": .int(try row.decode(Int64.self, 3))])
            }
        let summary = JSONValue(["stack": .string(stack), "execution_ms": .int(elapsed.wholeMilliseconds), "gates": .array(gates),
                                 "test_runs": .array(runs), "evidence": evidence])
        try (summary.jsonText + "\n").write(toFile: folder + "/\(stack).json", atomically: true, encoding: .utf8)
    }
}
