import Foundation
import PlanCore

/// The knobs of plan execution, with the design's defaults.
public struct ExecutionSettings: Sendable {
    /// Where workspaces live: `<dataDirectory>/workspaces/<plan id>`.
    public var dataDirectory: String
    /// Atoms of one wave in flight at once (`MASTERPLAN_CONCURRENCY`); mostly LLM calls waiting.
    public var concurrency: Int
    /// Threads for validators, tests and git: the CPU-bound limit, by default the number of cores.
    public var cpuSlots: Int
    /// Attempts per atom, each with the temperature at its position (the last one repeats).
    public var temperatures: [Double]
    /// Gate S repair rounds before a wave blocks.
    public var repairRounds: Int
    public var confidence: ConfidencePolicy
    public var gate: GatePolicy
    /// Share of the budget at which `cost_warning` is emitted (once per plan); at 1.0 the plan pauses.
    public var budgetWarningShare: Double
    public var workspaceLimits: WorkspaceLimits
    /// Characters of a dependency file carried into an atom's prompt (longer files are cut, saying so).
    public var promptFileCharacters: Int
    /// Characters of test output carried into a repair prompt.
    public var promptTestOutputCharacters: Int
    /// Ask the model for suggestions when a review is created.
    public var reviewSuggestions: Bool
    /// Upper bound on generated tokens per atom call.
    public var atomMaxTokens: Int
    /// What the dependency fetch box inherits from the executor (proxies, pip's index settings; see
    /// `PythonDependencyInstall.passedVariables`): by default the executor's own environment.
    public var packageIndexEnvironment: [String: String] = ProcessInfo.processInfo.environment

    public var maxAttempts: Int { temperatures.count }

    public init(dataDirectory: String, concurrency: Int = 8,
                cpuSlots: Int = max(1, ProcessInfo.processInfo.activeProcessorCount),
                temperatures: [Double] = [0.7, 0.5, 0.3], repairRounds: Int = 2, confidence: ConfidencePolicy = .default,
                gate: GatePolicy = .default, budgetWarningShare: Double = 0.8, workspaceLimits: WorkspaceLimits = .default,
                promptFileCharacters: Int = 40_000, promptTestOutputCharacters: Int = 8_000, reviewSuggestions: Bool = true,
                atomMaxTokens: Int = 16_384) {
        precondition(!temperatures.isEmpty, "an atom needs at least one attempt")
        self.dataDirectory = dataDirectory
        self.concurrency = max(1, concurrency)
        self.cpuSlots = max(1, cpuSlots)
        self.temperatures = temperatures
        self.repairRounds = max(0, repairRounds)
        self.confidence = confidence
        self.gate = gate
        self.budgetWarningShare = budgetWarningShare
        self.workspaceLimits = workspaceLimits
        self.promptFileCharacters = promptFileCharacters
        self.promptTestOutputCharacters = promptTestOutputCharacters
        self.reviewSuggestions = reviewSuggestions
        self.atomMaxTokens = atomMaxTokens
    }

    /// The folder holding every plan's workspace: `<dataDirectory>/workspaces`.
    public var workspacesRoot: String {
        var base = dataDirectory
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        return base + "/workspaces"
    }

    /// The workspace folder of a plan.
    public func workspacePath(planID: UUID) -> String {
        workspacesRoot + "/" + planID.uuidString.lowercased()
    }
}
