/// A unit of work in the plan: it writes one or more files, after the tasks it depends on are done.
///
/// Named `PlanTask` so that it never shadows Swift's `Task`.
public struct PlanTask: Sendable, Hashable {
    /// The planner's number, unique within the plan; dependencies refer to it.
    public var number: Int
    public var name: String
    public var description: String
    public var complexity: Complexity
    /// Numbers of the tasks that must be done before this one starts.
    public var dependsOn: [Int]
    /// Paths relative to the workspace root; each becomes one atom.
    public var files: [String]
    public var subtasks: [Subtask]
    public var acceptance: [AcceptanceCriterion]

    public init(number: Int, name: String, description: String, complexity: Complexity, dependsOn: [Int] = [],
                files: [String], subtasks: [Subtask] = [], acceptance: [AcceptanceCriterion] = []) {
        self.number = number
        self.name = name
        self.description = description
        self.complexity = complexity
        self.dependsOn = dependsOn
        self.files = files
        self.subtasks = subtasks
        self.acceptance = acceptance
    }
}
