import PlanCore

/// One stack MasterPlan executes (Python, Node.js, Go): everything about a plan's code that depends on its
/// language. A plan's stack is the one its test command names (`TestCommand.stack`); `Stacks.stack(for:)`
/// gives the value. Adding a stack is one type conforming to this protocol, a case of `StackKind`, and
/// its tests; the verdict rules (a harness the code cannot steer, a per-test report carrying a nonce,
/// no report no pass) are the same for every stack and live in `AcceptanceTestRunner` and
/// `TestRunReport`.
public protocol Stack: Sendable {
    var kind: StackKind { get }

    /// How one frozen acceptance test (its file is relative to `root`, the workspace as the box shows it)
    /// runs under the stack's harness; `dependencies` is the installed dependencies' folder there, if
    /// any. The harness must take the run's nonce from `Sandbox.secretDescriptor` before any workspace
    /// code can, and write nonce-tagged records (`TestRunReport`) to descriptor 4.
    func harness(for test: AcceptanceTest, root: String, dependencies: String?, interpreters: Interpreters) -> HarnessCommand

    /// The dependency manifest at the workspace's root (`requirements.txt`, `package.json`), nil when the
    /// stack has none.
    var manifestFile: String? { get }

    /// Files the cannot-fail probe's empty workspace gets beside the tests, so that the toolchain can run
    /// a test at all (Go's `go.mod`): without them every test would fail there, and none would ever be
    /// found unable to fail.
    var probeFiles: [(path: String, content: String)] { get }

    /// Whether the cannot-fail probe runs each test in an empty workspace of its own: Go compiles every
    /// test file of a package together, so one test that needs the code would fail its neighbours' probes.
    var probesEachTestAlone: Bool { get }

    /// Installs the dependencies `manifest` (the manifest's content) names into the workspace's engine
    /// folder, with the containment rules of the README's "The box". Blocking.
    func installDependencies(manifest: String, in workspace: Workspace, sandbox: Sandbox,
                             environment: [String: String]) -> DependencyOutcome
}

/// A harness run: the program and its arguments, or why the stack's toolchain cannot run it.
public struct HarnessCommand: Sendable {
    public var executable: String?
    public var arguments: [String]
    /// Added to the box's environment (never the nonce).
    public var environment: [String: String]
    /// The least address space the toolchain starts with (V8 reserves about 1 GiB up front).
    public var minimumMemoryBytes: Int
    /// Files of the engine's added to the run's copy of the workspace (relative path, content): Go's
    /// TestMain. Generated code cannot replace them: they are written after the copy is made.
    public var files: [(path: String, content: String)] = []
    /// Whether the box has its own `/proc` (`SandboxLimits.processFiles`).
    public var processFiles = true
    /// When set, the run's copy holds no other file whose name ends so (Go's `_test.go`: a package's test
    /// files compile together, and another acceptance test's file may use code a later task writes).
    public var soleTestFileSuffix: String?
    /// Why the harness cannot run, when `executable` is nil.
    public var unavailable: String?

    public init(executable: String, arguments: [String], environment: [String: String] = [:], minimumMemoryBytes: Int = 0) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.minimumMemoryBytes = minimumMemoryBytes
    }

    public init(unavailable reason: String) {
        executable = nil
        arguments = []
        environment = [:]
        minimumMemoryBytes = 0
        unavailable = reason
    }
}

/// What a dependency install did.
public struct DependencyOutcome: Sendable {
    public var passed: Bool
    /// True when the manifest was refused before anything ran (`reason` says why).
    public var refused: Bool
    /// Why it failed, in one sentence.
    public var reason: String?
    public var output: String
    public var duration: Duration

    public init(passed: Bool, reason: String?, output: String, duration: Duration) {
        self.passed = passed
        self.refused = false
        self.reason = reason
        self.output = output
        self.duration = duration
    }

    /// The manifest was refused before anything ran.
    public static func refused(_ reason: String) -> DependencyOutcome {
        var outcome = DependencyOutcome(passed: false, reason: reason, output: "", duration: .zero)
        outcome.refused = true
        return outcome
    }
}

extension Stack {
    public var probeFiles: [(path: String, content: String)] { [] }
    public var probesEachTestAlone: Bool { false }
}

public enum Stacks {
    /// The engine's value for `kind`.
    public static func stack(for kind: StackKind) -> any Stack {
        switch kind {
        case .python: return PythonStack()
        case .node: return NodeStack()
        case .go: return GoStack()
        }
    }

    /// The stack of a plan's test command; nil when no stack runs it (the plan validator refuses such plans).
    public static func stack(testCommand: String) -> (any Stack)? {
        StackKind(testCommand: testCommand).map(stack(for:))
    }
}
