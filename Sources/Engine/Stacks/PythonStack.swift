import PlanCore

/// Python projects: tests under `PytestHarness` (pytest also runs unittest classes), dependencies from
/// `requirements.txt` fetched as built wheels and installed offline (`PythonDependencyInstall`).
/// Python files are validated by `Validators` (compile, pyflakes, the tamper check's ast rules).
public struct PythonStack: Stack {
    public init() {}

    public var kind: StackKind { .python }

    public func harness(for test: AcceptanceTest, root: String, dependencies: String?, interpreters: Interpreters) -> HarnessCommand {
        guard let python = interpreters.python3 else {
            return HarnessCommand(unavailable: "python3 is not installed; install the Debian package python3 (make deps)")
        }
        return HarnessCommand(executable: python,
                              arguments: PytestHarness.arguments(testFile: test.file, root: root, dependencies: dependencies),
                              environment: PytestHarness.environment)
    }

    public var manifestFile: String? { "requirements.txt" }

    public func installDependencies(manifest: String, in workspace: Workspace, sandbox: Sandbox,
                                    environment: [String: String]) -> DependencyOutcome {
        // Only plain requirements from the index reach pip: an option, a path, a URL or a VCS reference
        // would make it fetch or build code the model chose (the validators refuse them too).
        let (lines, refused) = RequirementsCheck.check(manifest)
        if !refused.isEmpty {
            return .refused("requirements.txt has lines pip may not install: "
                            + refused.prefix(5).map(\.description).joined(separator: "; "))
        }
        guard let python = Interpreters.locate().python3 else {
            return DependencyOutcome(passed: false, reason: "python3 is not installed; install the Debian package python3 (make deps)",
                                     output: "", duration: .zero)
        }
        let outcome = PythonDependencyInstall(sandbox: sandbox, python: python, environment: environment).run(lines, in: workspace)
        return DependencyOutcome(passed: outcome.passed, reason: outcome.reason, output: outcome.output, duration: outcome.duration)
    }
}
