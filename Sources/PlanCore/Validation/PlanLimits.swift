/// The bounds a plan must stay within; configuration, because the size of a plan should follow the
/// size of the request rather than a fixed number.
///
/// The defaults admit a large project (2,000 tasks, 10,000 atoms) while refusing runaway answers;
/// the generator may tighten `maxTasks` for a small request.
public struct PlanLimits: Sendable, Hashable {
    public var minTasks: Int
    public var maxTasks: Int
    public var maxPhases: Int
    public var maxMilestonesPerPhase: Int
    public var maxTasksPerMilestone: Int
    public var maxSubtasksPerTask: Int
    /// Subtasks in the whole plan.
    public var maxSubtasks: Int
    public var maxFilesPerTask: Int
    /// Atoms (task × file) in the whole plan: each one is at least one LLM call.
    public var maxAtoms: Int
    public var maxDependenciesPerTask: Int
    public var maxCriteriaPerTask: Int
    /// Any one name, description or criterion, in UTF-8 bytes.
    public var maxTextBytes: Int
    /// A file path, in UTF-8 bytes; well under the 4,096 of Linux so that the workspace's own folder fits in front.
    public var maxPathBytes: Int
    /// Folders plus file in one path.
    public var maxPathDepth: Int

    public init(minTasks: Int = 1, maxTasks: Int = 2_000, maxPhases: Int = 12, maxMilestonesPerPhase: Int = 40,
                maxTasksPerMilestone: Int = 250, maxSubtasksPerTask: Int = 25, maxSubtasks: Int = 20_000,
                maxFilesPerTask: Int = 25, maxAtoms: Int = 10_000, maxDependenciesPerTask: Int = 50,
                maxCriteriaPerTask: Int = 25, maxTextBytes: Int = 20_000, maxPathBytes: Int = 240, maxPathDepth: Int = 16) {
        self.minTasks = minTasks
        self.maxTasks = maxTasks
        self.maxPhases = maxPhases
        self.maxMilestonesPerPhase = maxMilestonesPerPhase
        self.maxTasksPerMilestone = maxTasksPerMilestone
        self.maxSubtasksPerTask = maxSubtasksPerTask
        self.maxSubtasks = maxSubtasks
        self.maxFilesPerTask = maxFilesPerTask
        self.maxAtoms = maxAtoms
        self.maxDependenciesPerTask = maxDependenciesPerTask
        self.maxCriteriaPerTask = maxCriteriaPerTask
        self.maxTextBytes = maxTextBytes
        self.maxPathBytes = maxPathBytes
        self.maxPathDepth = maxPathDepth
    }

    public static let `default` = PlanLimits()
}
