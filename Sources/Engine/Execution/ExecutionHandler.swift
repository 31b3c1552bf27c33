import Base
import Foundation
import JSON
import LLM
import PlanCore
import Postgres
import Store

/// Runs a plan's execution job: atoms wave by wave, each generated, written safely,
/// validated in the sandbox and retried; the wave committed; the due acceptance tests run; Gate S with
/// repair rounds; reviews for what the machine is unsure of; and the resolutions reviewers make.
///
/// The job is resumable at every point: all state is in PostgreSQL and the workspace's git history,
/// so whichever executor claims the job next carries on from there. A paused or cancelled plan ends
/// the job between atoms; a blocked plan ends it until its reviews are resolved (the API then queues
/// a new execution job).
public struct ExecutionHandler: JobHandler {
    public let kind = "execution"
    let llm: LLMClient
    let sandbox: Sandbox
    let settings: ExecutionSettings
    let pool: BlockingPool
    let log: Logger

    public init(llm: LLMClient, sandbox: Sandbox, settings: ExecutionSettings, log: Logger = .silent) {
        self.llm = llm
        self.sandbox = sandbox
        self.settings = settings
        self.log = log
        pool = BlockingPool(threads: settings.cpuSlots)
    }

    /// Why an execution job cannot run at all (its plan is gone or its stored plan does not parse).
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The execution job ran out of attempts: the plan, which would otherwise sit in `executing` (or
    /// `queued`) with no job behind it, fails with the reason; resuming it queues a new job.
    public func jobGaveUp(_ job: FailedJob, database: AsyncDatabase) async throws {
        guard let planID = job.planID else { return }
        let tries = job.attempts == 1 ? "1 attempt" : "\(job.attempts) attempts"
        let reason = "The execution job stopped after \(tries); the last error: \(AtomPrompts.cut(job.lastError, to: 1_000)) "
            + "Resume the plan to try again."
        try await fail(planID: planID, reason: reason, details: .details(jobID: job.id, attempts: job.attempts), database: database)
    }

    public func run(_ job: ClaimedJob, context: JobContext) async throws {
        guard let planID = job.planID else { throw Refusal(description: "execution job \(job.id) names no plan") }
        guard let run = try await PlanRun.load(planID: planID, handler: self, context: context) else { return }
        do {
            try await run.execute()
        } catch let error as LLMError where Self.noRetryHelps(error) {
            // Another attempt of the job would be refused the same way: the plan fails now, in the
            // provider's words, and the job ends; resuming the plan (after the cause is fixed) carries on.
            let reason = "The model's provider refused a request in a way no retry fixes: \(AtomPrompts.cut(error.description, to: 1_000)). "
                + "Fix the cause, then resume the plan."
            try await fail(planID: planID, reason: reason, details: .details(jobID: job.id, llmError: error.description),
                           database: context.database)
        }
    }

    /// A spent quota or spend cap, a request beyond the context window, or a request the provider
    /// refuses (a 4xx other than 408, 409 and 429): failures that every later attempt would repeat.
    static func noRetryHelps(_ error: LLMError) -> Bool {
        switch error.kind {
        case .quotaExhausted, .contextWindow: true
        case .http(let status): (400..<500).contains(status) && ![408, 409, 429].contains(status)
        default: false
        }
    }

    /// Moves a plan that is executing or queued to `failed` with `reason` (nothing for a plan in any
    /// other state: it was paused, cancelled or finished meanwhile).
    private func fail(planID: UUID, reason: String, details: ProgressEvent.PlanStatusChanged, database: AsyncDatabase) async throws {
        try await database.run { c in
            let store = ExecutionStore(c)
            guard let plan = try store.plan(id: planID) else { return }
            guard plan.status == .executing || plan.status == .queued else { return }
            try store.transition(planID: planID, ownerID: plan.ownerID, try StatusChange(from: plan.status, .fail), action: .fail,
                                 reason: reason, details: details)
        }
    }
}
