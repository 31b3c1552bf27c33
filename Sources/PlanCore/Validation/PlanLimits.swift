/// The bounds a plan must stay within; configuration, because the size of a plan should follow the
/// size of the request rather than a fixed number.
///
/// The defaults admit a large project (2,000 tasks, 10,000 atoms) while refusing runaway answers;
/// the generator may tighten `maxTasks` for a small request.
///
/// The answer schemas given to models (`PlanJSONSchema`) state these same numbers as `maxItems`,
/// `maxLength` and `minimum`, so a grammar-constrained model stops where validation would; lengths are
/// therefore counted as JSON Schema counts them, in Unicode code points ("characters" in messages).
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
    /// Entries of a list that has no limit of its own: a tech stack's `other`, each list of a discovery
    /// and the lists inside its entries.
    public var maxListItems: Int
    /// Tests in one acceptance-test answer.
    public var maxTests: Int
    /// Any one name, description, criterion or other text, in Unicode code points.
    public var maxTextLength: Int
    /// A file path, in Unicode code points; at 4 bytes each at most, still well under the 4,096 bytes of
    /// Linux so that the workspace's own folder fits in front (each name is also held to 255 bytes).
    public var maxPathLength: Int
    /// Folders plus file in one path.
    public var maxPathDepth: Int
    /// The largest file a task or an acceptance test may write, in UTF-8 bytes (the workspace's own
    /// limit on what it writes and reads). A JSON schema cannot count bytes: the answer schemas state it
    /// as a `maxLength` in code points, which never refuses a file this limit admits.
    public var maxFileBytes: Int
    /// Phase, milestone, task and subtask numbers: PostgreSQL `integer` columns hold them.
    public var maxNumber: Int

    public init(minTasks: Int = 1, maxTasks: Int = 2_000, maxPhases: Int = 12, maxMilestonesPerPhase: Int = 40,
                maxTasksPerMilestone: Int = 250, maxSubtasksPerTask: Int = 25, maxSubtasks: Int = 20_000,
                maxFilesPerTask: Int = 25, maxAtoms: Int = 10_000, maxDependenciesPerTask: Int = 50,
                maxCriteriaPerTask: Int = 25, maxListItems: Int = 100, maxTests: Int = 500, maxTextLength: Int = 20_000,
                maxPathLength: Int = 240, maxPathDepth: Int = 16, maxFileBytes: Int = 1 << 20, maxNumber: Int = Int(Int32.max)) {
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
        self.maxListItems = maxListItems
        self.maxTests = maxTests
        self.maxTextLength = maxTextLength
        self.maxPathLength = maxPathLength
        self.maxPathDepth = maxPathDepth
        self.maxFileBytes = maxFileBytes
        self.maxNumber = maxNumber
    }

    /// The former name of `maxTextLength`, which counted UTF-8 bytes.
    @available(*, deprecated, renamed: "maxTextLength", message: "lengths are now counted in code points")
    public var maxTextBytes: Int { maxTextLength }

    /// The former name of `maxPathLength`, which counted UTF-8 bytes.
    @available(*, deprecated, renamed: "maxPathLength", message: "lengths are now counted in code points")
    public var maxPathBytes: Int { maxPathLength }

    public static let `default` = PlanLimits()
}
