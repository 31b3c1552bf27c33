/// What Gate S needs to know about one acceptance test: its identity, priority, the tasks it covers,
/// and the outcome of its latest run if it ran.
public struct GateTest: Sendable, Hashable {
    /// The caller's identifier (a database id or the test's name), echoed back in failures.
    public var id: String
    public var priority: CriterionPriority
    /// The tasks whose criteria the test checks; the test is due once all of them are done.
    public var coveredTasks: Set<Int>
    /// The latest outcome, or nil when the test has not run.
    public var outcome: TestOutcome?

    public init(id: String, priority: CriterionPriority, coveredTasks: Set<Int>, outcome: TestOutcome? = nil) {
        self.id = id
        self.priority = priority
        self.coveredTasks = coveredTasks
        self.outcome = outcome
    }

    /// Builds the gate's view of a parsed test (by name) with an optional outcome.
    public init(_ test: AcceptanceTest, outcome: TestOutcome? = nil) {
        self.init(id: test.name, priority: test.priority, coveredTasks: Set(test.covers), outcome: outcome)
    }
}
