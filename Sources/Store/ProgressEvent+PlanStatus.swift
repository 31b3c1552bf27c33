import Foundation
import JSON
import PlanCore

extension ProgressEvent {
    /// `plan_status_changed`: the plan moved from one status to another, with what moved it and the
    /// step's own facts (the tests frozen by an approval, the job queued, the budget that paused it).
    public struct PlanStatusChanged: Sendable, Equatable {
        /// What moved the plan: a user's action through the API, or the generator's and executor's steps.
        public enum Action: String, Sendable {
            case create
            case approve, answer, reject, regenerate, edit, execute, pause, resume, cancel
            case start, complete, fail, block
            /// The executor paused the plan because its budget was used up.
            case budgetPaused = "budget_paused"

            /// The action of a user's step (`PlanEvent.isUserAction`) or of the executor's.
            public init?(_ event: PlanEvent) {
                self.init(rawValue: event.rawValue)
            }

            /// The word `plan_history.event` records for the step: a user's action in the past tense,
            /// the executor's steps by name. A plan resumed is `resumed` whoever resumed it.
            public var historyEvent: String {
                switch self {
                case .approve: "approved"
                case .answer: "questions_answered"
                case .reject: "rejected"
                case .regenerate: "regeneration_requested"
                case .edit: "task_edited"
                case .execute: "execution_requested"
                case .pause: "paused"
                case .resume: "resumed"
                case .cancel: "cancelled"
                case .create: "created"
                case .start, .complete, .fail, .block, .budgetPaused: rawValue
                }
            }
        }

        /// Nil only when the plan was just created.
        public var from: PlanStatus?
        public var to: PlanStatus
        /// Nil when the generator moved the plan (its steps are named by `from` and `to`).
        public var action: Action?
        public var reason: String?
        /// Acceptance tests frozen by an approval.
        public var frozenTests: Int?
        /// The plan version an approval recorded.
        public var version: Int?
        /// A regeneration's feedback.
        public var feedback: String?
        /// The questions an answer settled, and how many of them the person answered in their own words
        /// (the rest kept the discovery's assumption).
        public var answers: Int?
        public var answeredByPerson: Int?
        /// The job queued by the step (generation, regeneration, execution).
        public var jobID: UUID?
        /// Queued jobs a cancellation cancelled.
        public var cancelledJobs: Int?
        /// How a completed plan was proven (`verified` or `accepted_with_waivers`).
        public var verification: String?
        /// What was spent and allowed, when the budget paused the plan.
        public var spentUSD: Double?
        public var budgetUSD: Double?
        /// The wave whose gate blocked the plan.
        public var wave: Int?
        /// A failed job's attempts and its provider's error, when the executor gave up.
        public var attempts: Int?
        public var llmError: String?

        public init(from: PlanStatus?, to: PlanStatus, action: Action? = nil, reason: String? = nil, frozenTests: Int? = nil,
                    version: Int? = nil, feedback: String? = nil, jobID: UUID? = nil, cancelledJobs: Int? = nil,
                    verification: String? = nil, spentUSD: Double? = nil, budgetUSD: Double? = nil, wave: Int? = nil,
                    attempts: Int? = nil, llmError: String? = nil) {
            self.from = from
            self.to = to
            self.action = action
            self.reason = reason
            self.frozenTests = frozenTests
            self.version = version
            self.feedback = feedback
            self.jobID = jobID
            self.cancelledJobs = cancelledJobs
            self.verification = verification
            self.spentUSD = spentUSD
            self.budgetUSD = budgetUSD
            self.wave = wave
            self.attempts = attempts
            self.llmError = llmError
        }

        /// The members of a user's history entry for the step: the event's without `action`.
        /// The members an executor's transition adds to the event (its from, to, action and reason
        /// come from the transition; see `ExecutionStore.transition`).
        public static func details(jobID: UUID? = nil, attempts: Int? = nil, llmError: String? = nil, wave: Int? = nil,
                                   spentUSD: Double? = nil, budgetUSD: Double? = nil, verification: String? = nil) -> Self {
            Self(from: nil, to: .executing, jobID: jobID, verification: verification, spentUSD: spentUSD, budgetUSD: budgetUSD,
                 wave: wave, attempts: attempts, llmError: llmError)
        }

        public var historyData: JSONObject {
            var json: JSONObject = ["from": JSONValue(from?.rawValue), "to": .string(to.rawValue)]
            if let reason { json["reason"] = .string(reason) }
            if let frozenTests { json["frozen_tests"] = JSONValue(frozenTests) }
            if let version { json["version"] = JSONValue(version) }
            if let feedback { json["feedback"] = .string(feedback) }
            if let answers { json["answers"] = JSONValue(answers) }
            if let answeredByPerson { json["answered_by_person"] = JSONValue(answeredByPerson) }
            if let cancelledJobs { json["cancelled_jobs"] = JSONValue(cancelledJobs) }
            if let verification { json["verification"] = .string(verification) }
            if let spentUSD { json["spent_usd"] = .double(spentUSD) }
            if let budgetUSD { json["budget_usd"] = .double(budgetUSD) }
            if let wave { json["wave"] = JSONValue(wave) }
            if let attempts { json["attempts"] = JSONValue(attempts) }
            if let llmError { json["llm_error"] = .string(llmError) }
            if let jobID { json["job_id"] = jobID.feedJSON }
            return json
        }

        public var json: JSONObject {
            var json = historyData
            if let action { json["action"] = .string(action.rawValue) }
            return json
        }
    }
}
