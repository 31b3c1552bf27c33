@testable import Engine
import Foundation
import JSON
import LLM
import PlanCore
import Postgres
import Store
import Testing
import TestSupport

/// A Go plan from request to verified completion through the real generation and execution handlers:
/// real files, gofmt and `go build`/`go vet` of each package, the Go acceptance tests under `GoHarness`
/// in bubblewrap — one retry (a syntax error), one Gate S failure repaired (the command ignored its file
/// argument), and `completed` with the plan verified.
@Suite(.dedicatedThreads, .serialized) struct GoStackExecutionTests {
    let harness: ExecutionHarness
    var connection: Connection { harness.connection }

    init() throws {
        harness = try ExecutionHarness()
    }

    func count(_ sql: String, _ parameters: [any PostgresBindable]) throws -> Int {
        try connection.query(sql, parameters).first!.decode(Int.self, 0)
    }

    func status(_ plan: UUID) throws -> String { try harness.generation.status(plan: plan).status }

    func gates(_ plan: UUID) throws -> [String] {
        try connection.query("""
            SELECT w.number, g.repair_round, g.passed FROM gate_results g JOIN waves w ON w.id = g.wave_id
            WHERE g.plan_id = $1 ORDER BY w.number, g.repair_round
            """, [plan]).rows.map { "wave \(try $0.decode(Int.self, 0)) round \(try $0.decode(Int.self, 1)): \(try $0.decode(Bool.self, 2) ? "passed" : "failed")" }
    }

    /// The failing validators of the atom's attempts that were not accepted, in order.
    func refusals(_ plan: UUID, _ path: String) throws -> [[String]] {
        try connection.query("""
            SELECT x.validation FROM atom_attempts x JOIN atoms a ON a.id = x.atom_id
            WHERE a.plan_id = $1 AND a.file_path = $2 AND NOT x.accepted ORDER BY x.attempt
            """, [plan, path]).rows.map { row in
                (try row.decode(JSONValue.self, 0).arrayValue ?? []).filter { $0["passed"]?.boolValue == false }
                    .map { "\($0["name"]?.stringValue ?? ""): \($0["message"]?.stringValue ?? "")" }
            }
    }

    @Test func aGoCommandRunsFromRequestToVerifiedWithARetryAndAGateRepair() async throws {
        let plan = try await harness.approvedPlan(generationAnswers: CSVToJSONFixture.generation())
        let clock = ContinuousClock()
        let started = clock.now
        let entries = CSVToJSONFixture.atoms(overriding: [
            "convert/convert.go": [CSVToJSONFixture.atom("convert/convert.go", CSVToJSONFixture.convertWithSyntaxError),
                                   CSVToJSONFixture.atom("convert/convert.go", CSVToJSONFixture.convertSource)],
            "cmd/csv2json/main.go": [CSVToJSONFixture.atom("cmd/csv2json/main.go", CSVToJSONFixture.mainSource(readsFiles: false))],
        ]) + [
            CSVToJSONFixture.entry(.gateRepair, "task-2/cmd/csv2json/main.go",
                                   CSVToJSONFixture.atom("cmd/csv2json/main.go", CSVToJSONFixture.reference("cmd/csv2json/main.go"))),
        ]
        try await harness.execute(entries)
        let elapsed = clock.now - started
        #expect(try status(plan) == "completed")
        #expect(try connection.query("SELECT verification FROM masterplans WHERE id = $1", [plan]).first!.decode(String?.self, 0) == "verified")

        // The retry: gofmt refused the first converter.
        let refused = try refusals(plan, "convert/convert.go")
        #expect(refused.count == 1)
        #expect(refused.first?.contains { $0.hasPrefix("gofmt") && $0.contains("expected") } == true, "\(refused)")

        // The gate repair: wave 2's MUST run test failed on the ignored argument, passed after the repair.
        #expect(try gates(plan) == ["wave 1 round 0: passed", "wave 2 round 0: failed", "wave 2 round 1: passed", "wave 3 round 0: passed"])
        let failed = try connection.query("""
            SELECT r.output_tail FROM test_runs r JOIN acceptance_tests t ON t.id = r.test_id
            WHERE r.plan_id = $1 AND t.name = 'run' AND r.kind = 'gate' AND r.status = 'fail'
            """, [plan]).rows
        #expect(failed.count == 1)
        #expect(try failed.first?.decode(String.self, 0).contains("TestRunConvertsAFile") == true)
        #expect(try count("SELECT count(*) FROM atom_attempts WHERE plan_id = $1 AND origin = 'gate_repair' AND accepted", [plan]) == 1)
        #expect(try count("SELECT count(*) FROM test_runs WHERE plan_id = $1 AND kind = 'mutation' AND status <> 'pass'", [plan]) >= 2)
        #expect(harness.read(plan, "cmd/csv2json/main.go") == CSVToJSONFixture.reference("cmd/csv2json/main.go"))

        let evidence = try #require(try PlanQueries(connection).evidence(planID: plan))
        #expect(evidence["verification"]?.stringValue == "verified")
        try StackEvidence.record("go", plan: plan, evidence: evidence, elapsed: elapsed, connection: connection)
    }

    @Test func aGoTestThatCannotFailIsFoundBeforeApproval() async throws {
        let vacuous = "package convert\n\nimport \"testing\"\n\nfunc TestNothing(t *testing.T) {\n\tt.Log(\"fine\")\n}\n"
        let tests: JSONValue = ["tests": .array((CSVToJSONFixture.acceptanceTestsJSON["tests"]?.arrayValue ?? []) + [
            ["name": "vacuous", "priority": "should", "covers": [1], "file": "convert/vacuous_test.go", "code": .string(vacuous)],
        ])]
        let plan = try harness.generation.createPlan(request: CSVToJSONFixture.request)
        try await harness.generation.withModel(CSVToJSONFixture.generation(tests: tests)) { client in
            try await harness.generation.runNextJob(try GenerationHandler(client: client, sandbox: try Sandbox()))
        }
        #expect(try status(plan) == "draft")
        let flags = try connection.query("SELECT name, cannot_fail FROM acceptance_tests WHERE plan_id = $1 ORDER BY name", [plan]).rows
            .map { "\(try $0.decode(String.self, 0)) \(try $0.decode(Bool.self, 1))" }
        #expect(flags == ["convert false", "errors false", "run false", "vacuous true"])
    }

    @Test func generatedGoThatReachesForDescriptorsOrAddsTestsIsRefusedAndRetried() async throws {
        let plan = try await harness.approvedPlan(generationAnswers: CSVToJSONFixture.generation())
        let stealer = CSVToJSONFixture.convertSource.replacingOccurrences(of: "\t\"io\"\n)", with: """
            \t"io"
            \t"os"
            )

            var stolen = func() []byte {
            \tbuffer := make([]byte, 64)
            \tn, _ := os.NewFile(7, "x").Read(buffer)
            \treturn buffer[:n]
            }()
            """)
        let linkname = CSVToJSONFixture.convertSource.replacingOccurrences(of: "\t\"io\"\n)", with: "\t\"io\"\n\t_ \"unsafe\"\n)\n\n//go:linkname now runtime.nanotime\nfunc now() int64")
        try await harness.execute(CSVToJSONFixture.atoms(overriding: [
            "convert/convert.go": [CSVToJSONFixture.atom("convert/convert.go", stealer), CSVToJSONFixture.atom("convert/convert.go", linkname),
                                   CSVToJSONFixture.atom("convert/convert.go", CSVToJSONFixture.convertSource)],
        ]))
        #expect(try status(plan) == "completed")
        let refused = try refusals(plan, "convert/convert.go")
        #expect(refused.count == 2)
        #expect(refused.first?.contains { $0.hasPrefix("tamper-check") && $0.contains("os.NewFile") } == true, "\(refused)")
        #expect(refused.last?.contains { $0.hasPrefix("tamper-check") && $0.contains("unsafe") && $0.contains("go:linkname") } == true, "\(refused)")
    }

    @Test func aGoModThatRequiresModulesIsRefusedAtTheInstallStepWithTheReason() async throws {
        let plan = try await harness.approvedPlan(generationAnswers: CSVToJSONFixture.generation())
        let manifest = "module example.com/csv2json\n\ngo 1.19\n\nrequire github.com/spf13/cobra v1.8.0 // the CLI\n"
        try await harness.execute(CSVToJSONFixture.atoms(overriding: ["go.mod": [CSVToJSONFixture.atom("go.mod", manifest)]]))
        let history = try connection.query("""
            SELECT event, data FROM plan_history WHERE plan_id = $1 AND event LIKE 'dependenc%' ORDER BY created_at
            """, [plan]).rows
        #expect(try history.first?.decode(String.self, 0) == "dependency_install_failed")
        let refused = try history.first?.decode(JSONValue.self, 1)["refused"]?.stringValue ?? ""
        #expect(refused.contains("go.mod requires modules (github.com/spf13/cobra)"), "\(refused)")
    }
}
