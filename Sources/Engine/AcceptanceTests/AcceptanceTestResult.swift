import Base
import JSON
import PlanCore

/// One run of one acceptance test: what Gate S needs and what `test_runs` stores.
public struct AcceptanceTestResult: Sendable {
    /// The test's name (unique within the plan).
    public var name: String
    public var file: String
    public var outcome: TestOutcome
    /// The test runner's exit status, when it exited.
    public var exitCode: Int32?
    public var duration: Duration
    /// The tail of the runner's output, with a note when the beginning was cut.
    public var output: String
    /// Why the outcome is not `pass`, in one sentence; nil for a pass.
    public var reason: String?
    /// The harness's per-test report, when the test ran under it.
    public var report: TestRunReport?
    /// For a MUST test that passed: whether it also failed without the files of the tasks it covers
    /// (`fails_without_the_code`, it counts) or passed anyway (`passes_without_the_code`, it does not).
    public var mutation: String?

    public init(name: String, file: String, outcome: TestOutcome, exitCode: Int32?, duration: Duration,
                output: String, reason: String?) {
        self.name = name
        self.file = file
        self.outcome = outcome
        self.exitCode = exitCode
        self.duration = duration
        self.output = output
        self.reason = reason
    }

    /// Gate S's view of `test` with this outcome.
    public func gateTest(for test: AcceptanceTest) -> GateTest {
        GateTest(test, outcome: outcome)
    }

    public var durationMilliseconds: Int64 { duration.wholeMilliseconds }

    /// `{"name", "file", "status", "exit_code", "duration_ms", "output", "reason"}`.
    public var jsonValue: JSONValue {
        var object = JSONObject()
        object["name"] = .string(name)
        object["file"] = .string(file)
        object["status"] = .string(outcome.rawValue)
        object["exit_code"] = exitCode.map { .int(Int64($0)) } ?? .null
        object["duration_ms"] = .int(duration.wholeMilliseconds)
        object["output"] = .string(output)
        object["reason"] = reason.map { .string($0) } ?? .null
        return .object(object)
    }
}
