import Foundation
import JSON
import LLM
import PlanCore
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
    let log: @Sendable (String) -> Void

    public init(llm: LLMClient, sandbox: Sandbox, settings: ExecutionSettings,
                log: @escaping @Sendable (String) -> Void = { _ in }) {
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
        try await database.run { c in
            let store = ExecutionStore(c)
            guard let plan = try store.plan(id: planID) else { return }
            for from in [PlanStatus.executing, .queued] where plan.status == from.rawValue {
                let to = try from.applying(.fail)
                try store.transition(planID: planID, ownerID: plan.ownerID, from: from.rawValue, to: to.rawValue, action: "fail",
                                     reason: reason, data: ["job_id": .string(job.id.uuidString.lowercased()),
                                                            "attempts": .int(Int64(job.attempts))])
            }
        }
    }

    public func run(_ job: ClaimedJob, context: JobContext) async throws {
        guard let planID = job.planID else { throw Refusal(description: "execution job \(job.id) names no plan") }
        guard let run = try await PlanRun.load(planID: planID, handler: self, context: context) else { return }
        try await run.execute()
    }
}
