import Foundation
import PlanCore

/// Runs the approved acceptance tests of a plan in the sandbox and reports each as pass, fail, error
/// or timeout for Gate S.
///
/// Each test file runs under its stack's harness (`Stack.harness`: `PytestHarness` for Python, where
/// pytest also runs `unittest.TestCase` classes; `NodeHarness` for Node.js; `GoHarness` for Go), and its outcome is
/// `TestRunReport`'s verdict on the harness's per-test report — never the exit status, which code
/// under test can choose.
///
/// The frozen test files are (re)written into the workspace through the safe writer before they run,
/// so what runs is exactly the approved code even if generated code touched those paths. Each test
/// then runs alone, without network, under the acceptance-test limits, in a fresh throwaway copy of
/// the workspace shown at the workspace's own path: a test may create files (a SQLite database, a
/// cache) without any of it reaching the workspace, its next commit, or the next test.
///
/// Blocking; tests are independent, so a caller may run several on separate threads.
public struct AcceptanceTestRunner: Sendable {
    public let sandbox: Sandbox
    public let interpreters: Interpreters
    public var limits: SandboxLimits
    /// Where the throwaway copies are made (an absolute path the sandbox user can reach).
    public var scratchParent: String
    /// Added to the sandbox's environment for every test (e.g. `PYTHONPATH` for installed dependencies,
    /// which the programs a test starts read; the harness itself ignores it).
    public var environment: [String: String] = [:]
    /// The installed dependencies' folder as the box sees it, importable after the system's packages.
    public var dependencies: String?
    /// The stack whose harness runs the tests; `run(_:testCommand:in:)` takes it from the command.
    public var stack: any Stack = PythonStack()

    public init(sandbox: Sandbox, interpreters: Interpreters = .locate(), limits: SandboxLimits = .acceptanceTest,
                scratchParent: String = "/tmp") {
        self.sandbox = sandbox
        self.interpreters = interpreters
        self.limits = limits
        self.scratchParent = scratchParent
    }

    /// Writes every test's file into `workspace` through the safe writer.
    public func install(_ tests: [AcceptanceTest], in workspace: Workspace) throws(WorkspaceError) {
        for test in tests {
            try workspace.write(test.code, to: test.file)
        }
    }

    /// Writes the tests' files, then runs each test, in order. A test whose file cannot be written, or a
    /// plan test command that is not supported, gives `error` results.
    public func run(_ tests: [AcceptanceTest], testCommand: String, in workspace: Workspace) -> [AcceptanceTestResult] {
        var runner = self
        do {
            runner.stack = Stacks.stack(for: try TestCommand(parsing: testCommand).stack)
        } catch {
            return tests.map { Self.notRun($0, reason: error.description) }
        }
        // All files first, so every run sees the same tree (a test may import a helper test module).
        let writeFailures: [String?] = tests.map { test in
            do {
                try workspace.write(test.code, to: test.file)
                return nil
            } catch {
                return "the test file could not be written: \(error)"
            }
        }
        return zip(tests, writeFailures).map { test, failure in
            failure.map { Self.notRun(test, reason: $0) } ?? runner.run(test, in: workspace)
        }
    }

    /// Runs one test whose file is already in the workspace; with `removing`, in a copy of the workspace
    /// without those files (relative paths), to see whether the test notices that they are gone.
    public func run(_ test: AcceptanceTest, in workspace: Workspace, removing removed: Set<String> = []) -> AcceptanceTestResult {
        let harness = stack.harness(for: test, root: workspace.root, dependencies: dependencies, interpreters: interpreters)
        guard let executable = harness.executable else {
            return Self.notRun(test, reason: harness.unavailable ?? "the stack's harness cannot run")
        }
        let owner: (user: UInt32, group: UInt32)? = sandbox.switchesUser
            ? (sandbox.configuration.userID, sandbox.configuration.groupID) : nil
        // Installed dependencies inside the workspace are not copied: the run sees the real folder,
        // read-only, so nothing a test runs can change what the next one imports.
        var binds: [SandboxWorkspace.ReadOnlyBind] = []
        var engineFolders: Set<String> = []
        if let dependencies, HostPath.isInside(dependencies, workspace.root) {
            let relative = String(dependencies.dropFirst(workspace.root.count + 1))
            if let top = relative.split(separator: "/").first, FileManager.default.fileExists(atPath: dependencies) {
                engineFolders.insert(String(top))
                binds.append(SandboxWorkspace.ReadOnlyBind(source: dependencies, path: dependencies))
            }
        }
        var leftOut = removed
        if let suffix = harness.soleTestFileSuffix {
            leftOut.formUnion(((try? workspace.files()) ?? []).filter { $0.hasSuffix(suffix) && $0 != test.file })
        }
        let scratch: ScratchFolder
        do {
            // The box copies this into a size-limited folder of its own; bwrap makes the mount points there.
            scratch = try ScratchFolder.copy(of: workspace, under: scratchParent, owner: owner, leavingOut: leftOut,
                                             leavingOutFolders: engineFolders)
        } catch {
            return Self.notRun(test, reason: "the workspace could not be copied for the run: \(error)")
        }
        defer { scratch.remove() }
        for file in harness.files {
            do {
                try scratch.add(file.content, at: file.path, owner: owner)
            } catch {
                return Self.notRun(test, reason: "the harness file \(file.path) could not be added to the run's copy: \(error)")
            }
        }
        var testLimits = limits
        testLimits.processFiles = harness.processFiles
        testLimits.network = false
        testLimits.memoryBytes = max(testLimits.memoryBytes, harness.minimumMemoryBytes)
        let nonce = Self.makeNonce()
        let result = sandbox.run(executable, harness.arguments,
                                 in: .scratchCopy(scratch.path, shownAt: workspace.root, readOnly: binds), limits: testLimits,
                                 environment: environment.merging(harness.environment) { $1 },
                                 capturesReport: true, secret: Array(nonce.utf8))
        return Self.result(of: test, run: result, report: TestRunReport(parsing: result.report, nonce: nonce), limits: testLimits)
    }

    /// The outcome of one harness run: the report's verdict, unless the box timed out or never started.
    static func result(of test: AcceptanceTest, run result: SandboxResult, report: TestRunReport,
                       limits: SandboxLimits) -> AcceptanceTestResult {
        var outcome: TestOutcome
        var reason: String?
        switch result.status {
        case .passed, .failed:
            (outcome, reason) = report.verdict
            if outcome != .pass, report.expected != nil, !report.reachedEnd, result.exitCode == nil, let signal = result.signal {
                reason = (reason.map { $0 + "; " } ?? "") + "the test run was ended by signal \(signal)"
            }
        case .timedOut:
            outcome = .timeout
            reason = "the test ran longer than \(limits.timeout) and was stopped"
        case .error:
            outcome = .error
            reason = "the sandbox could not run the test: " + ValidatorResult.excerpt(result.output, lines: 3)
        }
        // The report's summary first (each test's verdict and explanation), then the runner's own output.
        let summary = report.summary
        let output = summary.isEmpty ? result.outputWithNotice : summary + "\n\n--- runner output ---\n" + result.outputWithNotice
        var outcomeResult = AcceptanceTestResult(name: test.name, file: test.file, outcome: outcome, exitCode: result.exitCode,
                                                 duration: result.duration, output: output, reason: reason)
        outcomeResult.report = report
        return outcomeResult
    }

    /// A fresh random nonce for one run's report: 32 hex digits from the system's random source (`getrandom`).
    public static func makeNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef")
        return String((0..<32).map { _ in digits[Int.random(in: 0..<16, using: &generator)] })
    }

    static func notRun(_ test: AcceptanceTest, reason: String) -> AcceptanceTestResult {
        AcceptanceTestResult(name: test.name, file: test.file, outcome: .error, exitCode: nil, duration: .zero,
                             output: "", reason: reason)
    }
}
