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
        #expect(try harness.status(plan) == "completed")
        #expect(try harness.verification(plan) == "verified")

        // The retry: gofmt refused the first converter.
        let refused = try harness.refusals(plan, "convert/convert.go")
        #expect(refused.count == 1)
        #expect(refused.first?.contains { $0.hasPrefix("gofmt") && $0.contains("expected") } == true, "\(refused)")

        // The gate repair: wave 2's MUST run test failed on the ignored argument, passed after the repair.
        #expect(try harness.gates(plan) == ["wave 1 round 0: passed", "wave 2 round 0: failed", "wave 2 round 1: passed", "wave 3 round 0: passed"])
        let failed = try harness.gateOutputs(plan, test: "run", status: "fail")
        #expect(failed.count == 1)
        #expect(failed.first?.contains("TestRunConvertsAFile") == true)
        #expect(try harness.count("SELECT count(*) FROM atom_attempts WHERE plan_id = $1 AND origin = 'gate_repair' AND accepted", [plan]) == 1)
        #expect(try harness.count("SELECT count(*) FROM test_runs WHERE plan_id = $1 AND kind = 'mutation' AND status <> 'pass'", [plan]) >= 2)
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
        #expect(try harness.status(plan) == "draft")
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
        #expect(try harness.status(plan) == "completed")
        let refused = try harness.refusals(plan, "convert/convert.go")
        #expect(refused.count == 2)
        #expect(refused.first?.contains { $0.hasPrefix("tamper-check") && $0.contains("os.NewFile") } == true, "\(refused)")
        #expect(refused.last?.contains { $0.hasPrefix("tamper-check") && $0.contains("unsafe") && $0.contains("go:linkname") } == true, "\(refused)")
    }

    @Test func aGoModThatRequiresModulesIsRefusedAtTheInstallStepWithTheReason() async throws {
        let plan = try await harness.approvedPlan(generationAnswers: CSVToJSONFixture.generation())
        let manifest = "module example.com/csv2json\n\ngo 1.19\n\nrequire github.com/spf13/cobra v1.8.0 // the CLI\n"
        try await harness.execute(CSVToJSONFixture.atoms(overriding: ["go.mod": [CSVToJSONFixture.atom("go.mod", manifest)]]))
        let history = try harness.history(plan, prefix: "dependenc")
        #expect(history.first?.event == "dependency_install_failed")
        let refused = history.first?.data["refused"]?.stringValue ?? ""
        #expect(refused.contains("go.mod requires modules (github.com/spf13/cobra)"), "\(refused)")
    }
}
