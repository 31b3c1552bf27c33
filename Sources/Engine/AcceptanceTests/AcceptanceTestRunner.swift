import PlanCore

/// Runs the approved acceptance tests of a plan in the sandbox and reports each as pass, fail, error
/// or timeout for Gate S.
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
    /// Added to the sandbox's environment for every test (e.g. `PYTHONPATH` for installed dependencies).
    public var environment: [String: String] = [:]

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

    /// Writes the tests' files, then runs each test with the plan's test command, in order. A test
    /// whose file cannot be written, or a command that is not supported, gives `error` results.
    public func run(_ tests: [AcceptanceTest], testCommand: String, in workspace: Workspace) -> [AcceptanceTestResult] {
        let command: TestCommand
        do {
            command = try TestCommand(parsing: testCommand)
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
            failure.map { Self.notRun(test, reason: $0) } ?? run(test, command: command, in: workspace)
        }
    }

    /// Runs one test whose file is already in the workspace.
    public func run(_ test: AcceptanceTest, command: TestCommand, in workspace: Workspace) -> AcceptanceTestResult {
        guard let python = interpreters.python3 else {
            return Self.notRun(test, reason: "python3 is not installed; install the Debian package python3 (make deps)")
        }
        let owner: (user: UInt32, group: UInt32)? = sandbox.switchesUser
            ? (sandbox.configuration.userID, sandbox.configuration.groupID) : nil
        let scratch: ScratchFolder
        do {
            scratch = try ScratchFolder.copy(of: workspace, under: scratchParent, owner: owner)
        } catch {
            return Self.notRun(test, reason: "the workspace could not be copied for the run: \(error)")
        }
        defer { scratch.remove() }
        var testLimits = limits
        testLimits.network = false
        let result = sandbox.run(python, command.arguments(testFile: test.file),
                                 in: .scratchCopy(scratch.path, shownAt: workspace.root), limits: testLimits,
                                 environment: environment)
        let outcome: TestOutcome
        var reason: String?
        switch result.status {
        case .passed, .failed:
            (outcome, reason) = command.outcome(exitCode: result.exitCode ?? 1, output: result.output)
            if result.status == .failed, result.exitCode == nil, let signal = result.signal {
                reason = "the test run was ended by signal \(signal)"
            }
        case .timedOut:
            outcome = .timeout
            reason = "the test ran longer than \(testLimits.timeout) and was stopped"
        case .error:
            outcome = .error
            reason = "the sandbox could not run the test: " + ValidatorResult.excerpt(result.output, lines: 3)
        }
        return AcceptanceTestResult(name: test.name, file: test.file, outcome: outcome, exitCode: result.exitCode,
                                    duration: result.duration, output: result.outputWithNotice, reason: reason)
    }

    static func notRun(_ test: AcceptanceTest, reason: String) -> AcceptanceTestResult {
        AcceptanceTestResult(name: test.name, file: test.file, outcome: .error, exitCode: nil, duration: .zero,
                             output: "", reason: reason)
    }
}
