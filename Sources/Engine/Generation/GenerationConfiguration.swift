import PlanCore

/// The knobs of plan generation, regeneration and chat replies.
public struct GenerationConfiguration: Sendable {
    /// Repair calls (`plan_repair`) after an invalid plan answer before the generation gives up.
    public var planRepairAttempts: Int
    /// Corrected answers asked for after an invalid discovery answer.
    public var discoveryRepairAttempts: Int
    /// Corrected answers asked for after an invalid set of acceptance tests.
    public var testRepairAttempts: Int
    /// Similar approved plans of the same owner shown to the planner as examples.
    public var exampleCount: Int
    /// Tasks of each example shown in outline.
    public var exampleTaskLimit: Int
    /// The bounds every plan is validated against; `maxTasks` is also the ceiling of `taskBudget(for:)`.
    public var limits: PlanLimits
    /// Tasks allowed for any request, however short.
    public var baseTaskBudget: Int
    /// One more allowed task per this many words of the request, so the plan's size follows the request's.
    public var wordsPerExtraTask: Int
    /// The shortest time between two token-progress events of one call.
    public var progressInterval: Duration
    public var discoveryMaxTokens: Int
    public var planMaxTokens: Int
    public var testsMaxTokens: Int
    public var chatMaxTokens: Int
    /// Temperature of the discovery, plan and test calls.
    public var generationTemperature: Double
    /// Temperature of repair calls: corrections, not new ideas.
    public var repairTemperature: Double
    public var chatTemperature: Double
    /// Earlier messages of a conversation sent with a chat message.
    public var chatHistoryLimit: Int
    /// Token and latency assumptions of the cost estimate; its prices are replaced by the configured
    /// model's when the price table knows it.
    public var estimatePolicy: EstimatePolicy

    public init(planRepairAttempts: Int = 3, discoveryRepairAttempts: Int = 1, testRepairAttempts: Int = 1,
                exampleCount: Int = 5, exampleTaskLimit: Int = 40, limits: PlanLimits = .default, baseTaskBudget: Int = 12,
                wordsPerExtraTask: Int = 4, progressInterval: Duration = .seconds(1), discoveryMaxTokens: Int = 8_192,
                planMaxTokens: Int = 16_384, testsMaxTokens: Int = 16_384, chatMaxTokens: Int = 4_096,
                generationTemperature: Double = 0.4, repairTemperature: Double = 0.2, chatTemperature: Double = 0.7,
                chatHistoryLimit: Int = 40, estimatePolicy: EstimatePolicy = .default) {
        precondition(planRepairAttempts >= 0 && discoveryRepairAttempts >= 0 && testRepairAttempts >= 0,
                     "repair attempts must not be negative")
        precondition(exampleCount >= 0 && exampleTaskLimit >= 0, "example counts must not be negative")
        precondition(baseTaskBudget >= 1 && wordsPerExtraTask >= 1, "the task budget needs a positive base and word step")
        self.planRepairAttempts = planRepairAttempts
        self.discoveryRepairAttempts = discoveryRepairAttempts
        self.testRepairAttempts = testRepairAttempts
        self.exampleCount = exampleCount
        self.exampleTaskLimit = exampleTaskLimit
        self.limits = limits
        self.baseTaskBudget = baseTaskBudget
        self.wordsPerExtraTask = wordsPerExtraTask
        self.progressInterval = progressInterval
        self.discoveryMaxTokens = discoveryMaxTokens
        self.planMaxTokens = planMaxTokens
        self.testsMaxTokens = testsMaxTokens
        self.chatMaxTokens = chatMaxTokens
        self.generationTemperature = generationTemperature
        self.repairTemperature = repairTemperature
        self.chatTemperature = chatTemperature
        self.chatHistoryLimit = chatHistoryLimit
        self.estimatePolicy = estimatePolicy
    }

    public static let `default` = GenerationConfiguration()

    /// The most tasks a plan for `request` may have: `baseTaskBudget` plus one per `wordsPerExtraTask`
    /// words, never above `limits.maxTasks` — a one-line script request gets a dozen tasks at most, a
    /// page-long specification a hundred or more.
    public func taskBudget(for request: String) -> Int {
        let words = request.split(whereSeparator: { $0.isWhitespace }).count
        return max(limits.minTasks, min(limits.maxTasks, baseTaskBudget + words / wordsPerExtraTask))
    }

    /// The limits a plan for `request` is validated against: `limits` with `maxTasks` lowered to the
    /// request's task budget.
    public func limits(for request: String) -> PlanLimits {
        var bounded = limits
        bounded.maxTasks = taskBudget(for: request)
        return bounded
    }
}
