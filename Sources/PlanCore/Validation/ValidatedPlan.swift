/// A plan that passed every rule of `PlanValidator`: the only form execution, estimates and the
/// approval step accept.
///
/// Its task numbers are unique, every dependency exists, there is no cycle, every file path is safe,
/// and the counts are within the limits it was validated against.
public struct ValidatedPlan: Sendable {
    public let plan: MasterPlan
    /// Every task in document order.
    public let tasks: [PlanTask]
    /// Positions into `tasks`, each after its dependencies, ties broken by the smaller number.
    public let executionOrder: [Int]
    /// The dependency graph over positions into `tasks`.
    public let graph: TaskDependencyGraph

    init(plan: MasterPlan, tasks: [PlanTask], executionOrder: [Int], graph: TaskDependencyGraph) {
        self.plan = plan
        self.tasks = tasks
        self.executionOrder = executionOrder
        self.graph = graph
    }

    public func task(number: Int) -> PlanTask? {
        graph.position(ofTask: number).map { tasks[$0] }
    }

    public var subtaskCount: Int { tasks.reduce(0) { $0 + $1.subtasks.count } }

    /// How many acceptance criteria the plan has, per priority.
    public func criterionCount(_ priority: CriterionPriority) -> Int {
        tasks.reduce(0) { total, task in total + task.acceptance.count(where: { $0.priority == priority }) }
    }
}
