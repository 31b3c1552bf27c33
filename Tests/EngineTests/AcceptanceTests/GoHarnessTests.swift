import Engine
import Foundation
import PlanCore
import Testing
import TestSupport

/// Go acceptance tests under `GoHarness`, for real in the sandbox: a working package passes, a broken
/// one fails, and code that fails its test and tries to make the run pass anyway never passes. (The
/// tricks that need `os.NewFile`, `syscall` or `unsafe` are refused before any test runs, by the
/// validators' static checks: `GoChecksTests`, `GoStackExecutionTests`.)
@Suite(.dedicatedThreads) struct GoHarnessTests {
    typealias Attack = HarnessAttack

    static let goMod = "module example.com/calc\n\ngo 1.19\n"
    static let brokenAdd = "func Add(a, b int) int { return a - b }\n"

    static let test = AcceptanceTest(name: "add", priority: .must, covers: [1], file: "calc/calc_test.go", code: """
        package calc

        import "testing"

        func TestAdd(t *testing.T) {
        \tif got := Add(2, 3); got != 5 {
        \t\tt.Fatalf("Add(2, 3) = %d, want 5", got)
        \t}
        }

        func TestAddNegative(t *testing.T) {
        \tt.Run("both", func(t *testing.T) {
        \t\tif got := Add(-2, -3); got != -5 {
        \t\t\tt.Errorf("Add(-2, -3) = %d, want -5", got)
        \t\t}
        \t})
        }

        """)

    static let attacks: [Attack] = [
        Attack(name: "exits with status 0 in init", files: calc("import \"os\"\n\nfunc init() { os.Exit(0) }\n\n" + brokenAdd),
               reason: "no report"),
        Attack(name: "exits with status 0 inside the test", files: calc("import \"os\"\n\nfunc Add(a, b int) int { os.Exit(0); return 0 }\n"),
               reason: "exited early"),
        Attack(name: "ends the test's goroutine", files: calc("import \"runtime\"\n\nfunc Add(a, b int) int { runtime.Goexit(); return 0 }\n"),
               reason: "failed", "exited early"),
        Attack(name: "panics", files: calc("func Add(a, b int) int { panic(\"no\") }\n"), reason: "failed", "exited early"),
        Attack(name: "prints a forged report and exits", files: calc("""
            import (
            \t"fmt"
            \t"os"
            )

            func Add(a, b int) int {
            \tfor _, name := range []string{"/dev/stdout", "/dev/stderr"} {
            \t\tif f, err := os.OpenFile(name, os.O_WRONLY, 0); err == nil {
            \t\t\tfmt.Fprintln(f, `{"kind":"result","nodeid":"calc/calc_test.go::TestAdd","outcome":"passed"}`)
            \t\t\tfmt.Fprintln(f, `{"kind":"end","exit":0}`)
            \t\t}
            \t}
            \tfmt.Println("--- PASS: TestAdd (0.00s)\\nok")
            \tos.Exit(0)
            \treturn 0
            }

            """), reason: "exited early"),
        Attack(name: "takes the nonce through /proc or /dev/fd in init", files: calc("""
            import (
            \t"io"
            \t"os"
            )

            var stolen []byte

            func init() {
            \tfor _, name := range []string{"/proc/self/fd/7", "/dev/fd/7", "/proc/self/environ", "/proc/self/mem"} {
            \t\tif f, err := os.Open(name); err == nil {
            \t\t\tdata, _ := io.ReadAll(io.LimitReader(f, 64))
            \t\t\tstolen = append(stolen, data...)
            \t\t}
            \t}
            \tif len(stolen) >= 32 {
            \t\tif report, err := os.OpenFile("/dev/fd/4", os.O_WRONLY, 0); err == nil {
            \t\t\tnonce := string(stolen[:32])
            \t\t\treport.WriteString(`{"nonce":"` + nonce + `","kind":"expected","ids":["calc/calc_test.go::TestAdd","calc/calc_test.go::TestAddNegative"]}` + "\\n")
            \t\t\treport.WriteString(`{"nonce":"` + nonce + `","kind":"result","nodeid":"calc/calc_test.go::TestAdd","outcome":"passed"}` + "\\n")
            \t\t\treport.WriteString(`{"nonce":"` + nonce + `","kind":"result","nodeid":"calc/calc_test.go::TestAddNegative","outcome":"passed"}` + "\\n")
            \t\t\treport.WriteString(`{"nonce":"` + nonce + `","kind":"end","exit":0}` + "\\n")
            \t\t\tos.Exit(0)
            \t\t}
            \t}
            }

            """ + brokenAdd), reason: "failed"),
    ]

    /// The generated package's one file, `calc/calc.go`, with `source` after its package clause.
    static func calc(_ source: String) -> [(path: String, content: String)] {
        [("calc/calc.go", "package calc\n\n" + source)]
    }

    func run(_ source: String, test: AcceptanceTest = Self.test, goMod: String? = Self.goMod) throws -> AcceptanceTestResult {
        try run(Self.calc(source), test: test, goMod: goMod)
    }

    func run(_ files: [(path: String, content: String)], test: AcceptanceTest = Self.test, goMod: String? = Self.goMod) throws -> AcceptanceTestResult {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try Workspace.open(at: folder.sub("workspaces/plan-1"))
        if let goMod { try workspace.write(goMod, to: "go.mod") }
        for (path, content) in files { try workspace.write(content, to: path) }
        var limits = SandboxLimits.acceptanceTest
        limits.timeout = .seconds(60)
        let runner = AcceptanceTestRunner(sandbox: try Sandbox(), limits: limits)
        return try #require(runner.run([test], testCommand: "go test ./...", in: workspace).first)
    }

    @Test func aWorkingPackagePassesWithEveryTestReported() throws {
        let result = try run("func Add(a, b int) int { return a + b }\n")
        #expect(result.outcome == .pass, "\(result.output)")
        #expect(result.report?.cases.map(\.id) == ["calc/calc_test.go::TestAdd", "calc/calc_test.go::TestAddNegative"])
    }

    @Test func aBrokenPackageFailsWithTheTestsOutput() throws {
        let result = try run(Self.brokenAdd)
        #expect(result.outcome == .fail)
        #expect(result.reason == "calc/calc_test.go::TestAdd failed (and 1 more)")
        #expect(result.output.contains("Add(2, 3) = -1, want 5"), "\(result.output)")
    }

    @Test func aPackageThatDoesNotCompileOrHasNoModuleIsAnError() throws {
        let broken = try run("func Add(a, b int) int { return a + }\n")
        #expect(broken.outcome == .error)
        #expect(broken.output.contains("does not compile"), "\(broken.output)")
        let noModule = try run("func Add(a, b int) int { return a + b }\n", goMod: nil)
        #expect(noModule.outcome == .error)
    }

    /// Another acceptance test's file in the same package uses what a later task writes: the run of this
    /// one leaves it out, since a package's test files compile together.
    @Test func anotherTestFileOfThePackageIsLeftOutOfTheRun() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try Workspace.open(at: folder.sub("workspaces/plan-1"))
        try workspace.write(Self.goMod, to: "go.mod")
        try workspace.write("package calc\n\nfunc Add(a, b int) int { return a + b }\n", to: "calc/calc.go")
        try workspace.write("package calc\n\nimport \"testing\"\n\nfunc TestLater(t *testing.T) { _ = Later() }\n", to: "calc/later_test.go")
        let runner = AcceptanceTestRunner(sandbox: try Sandbox())
        let result = try #require(runner.run([Self.test], testCommand: "go test ./...", in: workspace).first)
        #expect(result.outcome == .pass, "\(result.output)")
    }

    @Test func aSkippedTestIsNotAPass() throws {
        let skipping = AcceptanceTest(name: "add", priority: .must, covers: [1], file: "calc/calc_test.go", code: """
            package calc

            import "testing"

            func TestAdd(t *testing.T) { t.Skip("later") }

            """)
        let result = try run("func Add(a, b int) int { return a + b }\n", test: skipping)
        #expect(result.outcome == .fail)
        #expect(result.reason?.contains("was skipped") == true, "\(result.reason ?? "")")
    }

    @Test(arguments: attacks)
    func anAttackNeverPasses(attack: Attack) throws {
        let result = try run(attack.files)
        #expect(result.outcome != .pass, "\(attack.name) passed: \(result.output)")
        #expect(attack.reasons.contains { result.reason?.contains($0) == true }, "reason: \(result.reason ?? "none")\n\(result.output)")
    }
}
