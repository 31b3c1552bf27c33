import PlanCore
import Store

/// The bounds of request body fields, in one place for the handlers that enforce them and the
/// OpenAPI document that states them. Lengths are in characters (Unicode code points).
enum BodyLimits {
    /// `POST /masterplans` request.
    static let request = 20_000
    /// A plan's budget in US dollars: `PlanQueries.budgetRangeUSD`, which `masterplans.budget_usd` holds.
    static let budgetUSD = PlanQueries.budgetRangeUSD
    static let conversationTitle = 500
    static let messageContent = 100_000
    /// Reject, pause and cancel reasons.
    static let planReason = 5_000
    static let feedback = 20_000
    /// Answers to a discovery's questions: at most one per question the discovery may ask.
    static let clarificationAnswers = 100
    /// `acceptance_tests.cannot_fail_confirmation` holds at most 4,096 bytes: 1,000 characters of
    /// up to 4 bytes each always fit.
    static let confirmationReason = 1_000
    /// `test_waivers.reason` holds at most 8,192 bytes: 2,000 characters always fit.
    static let waiverReason = 2_000
    /// A reviewer's replacement for a file (the body limit, 1 MiB, bounds it in bytes).
    static let reviewContent = 1 << 20
    /// A task's name, description, criteria and subtasks: the plan's own limit in characters
    /// (`PlanLimits.maxTextLength`), which PlanCore checks again with the plan.
    static let taskText = PlanLimits.default.maxTextLength
    static let editNote = 2_000
    static let filePath = PlanLimits.default.maxPathLength
    static let filesPerTask = PlanLimits.default.maxFilesPerTask
    static let dependenciesPerTask = PlanLimits.default.maxDependenciesPerTask
    static let subtasksPerTask = PlanLimits.default.maxSubtasksPerTask
    static let criteriaPerTask = PlanLimits.default.maxCriteriaPerTask
    /// Task and subtask numbers: the `integer` columns that hold them.
    static let number = 1...Int(Int32.max)
    static let email = 320
    static let displayName = 200
    static let password = 1_024
}
