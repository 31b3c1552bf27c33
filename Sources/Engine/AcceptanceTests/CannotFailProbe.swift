import Glibc
import PlanCore

/// Runs a plan's acceptance tests once, before any code exists, against a workspace holding nothing
/// but the test files: a test that passes there cannot fail, so it proves nothing about the code it
/// is meant to check (a vacuous assertion, `assert (x, "message")`, a test that only imports).
///
/// The plan cannot be approved until a person regenerates such a test or confirms it with a reason.
/// The run is the gate's own: the harness in the sandbox, without network. Blocking; call it from a
/// thread of its own.
public struct CannotFailProbe: Sendable {
    public var runner: AcceptanceTestRunner
    /// Where the empty workspaces are made (an absolute folder the sandbox user can reach).
    public var scratchParent: String

    public init(runner: AcceptanceTestRunner, scratchParent: String = "/tmp") {
        self.runner = runner
        self.scratchParent = scratchParent
    }

    public init(sandbox: Sandbox) {
        var limits = SandboxLimits.acceptanceTest
        limits.timeout = .seconds(60)
        self.init(runner: AcceptanceTestRunner(sandbox: sandbox, limits: limits))
    }

    /// Each test's run against the empty workspace, in the order given. A test whose run passed cannot
    /// fail; any other outcome (it failed, or could not import what is not written yet) is as it should be.
    public func probe(_ tests: [AcceptanceTest], testCommand: String) -> [AcceptanceTestResult] {
        guard !tests.isEmpty else { return [] }
        let stack = Stacks.stack(testCommand: testCommand)
        if stack?.probesEachTestAlone == true {
            return tests.flatMap { probe([$0], testCommand: testCommand, files: stack?.probeFiles ?? []) }
        }
        return probe(tests, testCommand: testCommand, files: stack?.probeFiles ?? [])
    }

    /// Runs `tests` in one empty workspace holding only them and `files`.
    private func probe(_ tests: [AcceptanceTest], testCommand: String, files: [(path: String, content: String)]) -> [AcceptanceTestResult] {
        var template = Array((scratchParent + "/masterplan-probe-XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            let reason = "cannot create a folder under \(scratchParent) to try the tests: \(String(cString: strerror(errno)))"
            return tests.map { AcceptanceTestRunner.notRun($0, reason: reason) }
        }
        let folder = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { ScratchFolder(path: folder).remove() }
        chmod(folder, 0o755)
        do {
            let workspace = try Workspace.open(at: folder + "/empty")
            for file in files { try workspace.write(file.content, to: file.path) }
            return runner.run(tests, testCommand: testCommand, in: workspace)
        } catch {
            return tests.map { AcceptanceTestRunner.notRun($0, reason: "the empty workspace could not be made: \(error)") }
        }
    }
}
