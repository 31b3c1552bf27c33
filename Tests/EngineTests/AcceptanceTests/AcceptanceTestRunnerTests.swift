import Engine
import Foundation
import PlanCore
import Testing
import TestSupport

/// Approved tests run for real (pytest and unittest from Debian) in the sandbox.
@Suite(.dedicatedThreads) struct AcceptanceTestRunnerTests {
    let runner: AcceptanceTestRunner

    init() throws {
        let interpreters = Interpreters.locate()
        try #require(interpreters.python3 != nil, "python3 from Debian is required (make deps)")
        var limits = SandboxLimits.acceptanceTest
        limits.timeout = .seconds(30)
        runner = AcceptanceTestRunner(sandbox: try Sandbox(), interpreters: interpreters, limits: limits)
    }

    private func test(_ name: String, _ code: String, covers: [Int] = [1], priority: CriterionPriority = .must) -> AcceptanceTest {
        AcceptanceTest(name: name, priority: priority, covers: covers, file: "tests/acceptance/\(name).py", code: code)
    }

    /// A workspace holding a small project: `calc.py` at the root, as generated code would leave it.
    private func makeWorkspace(_ folder: TemporaryFolder) throws -> Workspace {
        let workspace = try Workspace.open(at: folder.sub("workspaces/plan-1"))
        try workspace.write("def add(a, b):\n    return a + b\n", to: "calc.py")
        try workspace.commitWave(1, atomCount: 1)
        return workspace
    }

    @Test(arguments: ["python3 -m pytest -q", "pytest", "python -m unittest", "python3 -m unittest -v"])
    func aPassingAndAFailingTest(command: String) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let passing = test("test_add_passes", """
        import unittest
        from calc import add

        class AddTest(unittest.TestCase):
            def test_adds(self):
                self.assertEqual(add(2, 3), 5)
        """ + "\n")
        let failing = test("test_add_fails", """
        import unittest
        from calc import add

        class AddTest(unittest.TestCase):
            def test_adds_wrongly(self):
                self.assertEqual(add(2, 2), 5)
        """ + "\n", priority: .should)
        let results = runner.run([passing, failing], testCommand: command, in: workspace)
        #expect(results.map(\.outcome) == [.pass, .fail], "\(results.map { $0.output })")
        #expect(results[1].output.contains("4 != 5"), "\(results[1].output)")
        #expect(results[0].reason == nil)
        #expect(results.allSatisfy { $0.duration > .zero })
        // The approved files are in the workspace, exactly as frozen.
        #expect(try workspace.read(passing.file) == passing.code)

        let gate = GateS.evaluate(tests: zip([passing, failing], results).map { $1.gateTest(for: $0) },
                                  doneTasks: [1], isFinalWave: false, policy: GatePolicy())
        #expect(!gate.passed)
    }

    @Test func plainPytestFunctionsRun() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let results = runner.run([test("test_plain", "from calc import add\n\ndef test_add():\n    assert add(1, 1) == 2\n")],
                                 testCommand: "pytest -q", in: workspace)
        #expect(results.first?.outcome == .pass, "\(results.first?.output ?? "")")
    }

    @Test func aTestSleepingPastTheTimeoutTimesOut() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        var short = runner
        short.limits.timeout = .seconds(3)
        let sleeper = test("test_sleeps", "import time\n\ndef test_slow():\n    time.sleep(60)\n")
        let started = ContinuousClock.now
        let result = try #require(short.run([sleeper], testCommand: "python3 -m pytest -q", in: workspace).first)
        #expect(result.outcome == .timeout)
        #expect(result.reason?.contains("longer than") == true)
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func aTestThatTriesTheNetworkFails() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let listener = try LoopbackListener(blocking: false)
        let networked = test("test_network", """
        import socket

        def test_reaches_the_host():
            with socket.create_connection(("127.0.0.1", \(listener.port)), timeout=5) as s:
                s.sendall(b"hello")
        """ + "\n")
        // Even a runner configured with the network gets none for tests.
        var open = runner
        open.limits.network = true
        let result = try #require(open.run([networked], testCommand: "python3 -m pytest -q", in: workspace).first)
        #expect(result.outcome == .fail, "\(result.output)")
        #expect(result.output.contains("OSError") || result.output.contains("ConnectionRefusedError"), "\(result.output)")
        #expect(!listener.acceptedConnection())
    }

    @Test func whatATestWritesNeverReachesTheWorkspace() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let writer = test("test_writes", """
        import os, sqlite3

        def test_creates_files():
            sqlite3.connect("app.db").execute("create table t (x)")
            with open("calc.py", "w") as f:
                f.write("broken")
            os.makedirs("cache", exist_ok=True)
            assert os.path.exists("app.db")
        """ + "\n")
        let reader = test("test_reads", "import os\nfrom calc import add\n\ndef test_clean():\n    assert not os.path.exists('app.db')\n    assert add(1, 2) == 3\n")
        let results = runner.run([writer, reader], testCommand: "python3 -m pytest -q", in: workspace)
        #expect(results.map(\.outcome) == [.pass, .pass], "\(results.map(\.output))")
        #expect(try workspace.read("calc.py") == "def add(a, b):\n    return a + b\n")
        #expect(try workspace.files() == ["calc.py", reader.file, writer.file].sorted())
        // No scratch copies are left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter { $0.hasPrefix("masterplan-run-") }
        #expect(leftovers.allSatisfy { !FileManager.default.fileExists(atPath: "/tmp/\($0)/tests/acceptance/\(writer.name).py") })
    }

    @Test func aTestThatCannotBeImportedIsAnError() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let broken = test("test_broken_import", "import module_that_does_not_exist\n\ndef test_x():\n    pass\n")
        let pytest = try #require(runner.run([broken], testCommand: "pytest", in: workspace).first)
        #expect(pytest.outcome == .error)
        #expect(pytest.output.contains("ModuleNotFoundError"))
        let unittest = try #require(runner.run([broken], testCommand: "python3 -m unittest", in: workspace).first)
        #expect(unittest.outcome == .error, "\(unittest.output)")
        let empty = try #require(runner.run([test("test_empty", "x = 1\n")], testCommand: "pytest", in: workspace).first)
        #expect(empty.outcome == .error)
        #expect(empty.reason?.contains("defines no test") == true)
    }

    @Test func anUnsupportedCommandOrABadTestPathIsAnError() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try makeWorkspace(folder)
        let results = runner.run([test("test_a", "def test_a():\n    pass\n")], testCommand: "cargo test", in: workspace)
        #expect(results.first?.outcome == .error)
        #expect(results.first?.reason?.contains("is not one MasterPlan can run") == true)
        let escaping = AcceptanceTest(name: "escape", priority: .must, covers: [1], file: "../escape.py", code: "x = 1\n")
        let refused = try #require(runner.run([escaping], testCommand: "pytest", in: workspace).first)
        #expect(refused.outcome == .error)
        #expect(!FileManager.default.fileExists(atPath: folder.sub("workspaces/escape.py")))
    }

    @Test func resultsSerialiseForTestRuns() throws {
        let result = AcceptanceTestResult(name: "t", file: "tests/t.py", outcome: .timeout, exitCode: nil,
                                          duration: .milliseconds(1_500), output: "...", reason: "too slow")
        let json = result.jsonValue
        #expect(json["status"]?.stringValue == "timeout")
        #expect(json["duration_ms"]?.intValue == 1_500)
        #expect(json["exit_code"] == .null)
    }
}
