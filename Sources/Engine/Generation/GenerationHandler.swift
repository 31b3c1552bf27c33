import Base
import Foundation
import LLM
import PlanCore
import Store

/// Runs `generation` jobs: turns the request of a plan in `generating` into a draft:
/// discovery → plan (with up to `exampleCount` similar approved plans of the same owner as examples,
/// and the parse–validate–repair loop) → acceptance tests → estimate → one transaction storing
/// version 1 with its history; or `generation_failed` with the reason when the model cannot produce
/// a usable plan.
///
/// Events, in order: `discovery_generation_start`, `discovery_tokens_progress`,
/// `discovery_generation_complete`, `masterplan_generation_start`, `masterplan_tokens_progress` (per
/// call: plan, each repair, the tests), then `plan_status_changed` and `masterplan_generation_complete`
/// (or `plan_status_changed` and `masterplan_generation_failed`), then `chat_message` when the plan
/// came from a conversation, which also gets an assistant message saying so.
///
/// Failures: a provider that stays unreachable after the client's retries is transient — the job is
/// thrown back to the daemon and retried while it has attempts left, and only its last attempt marks
/// the plan failed. Anything else (answers still invalid after the repairs, a refused request) would
/// fail again: the plan is marked `generation_failed` at once and the job ends normally, so the daemon
/// does not spend more calls on it. The LLM calls use the fixed keys of `GenerationKeys`.
///
/// Resuming: a job run again after a crash reuses the discovery already stored; a plan that is no
/// longer `generating` (already a draft, or failed) is left as it is.
public struct GenerationHandler: JobHandler {
    public let kind = JobKind.generation.rawValue
    let generator: PlanGenerator

    /// Generates with `generator`, which the executor shares with its `RegenerationHandler`.
    public init(generator: PlanGenerator) {
        self.generator = generator
    }

    /// Generates with a generator of its own (tests and benches that run only this kind of job).
    public init(client: LLMClient, configuration: GenerationConfiguration = .default, sandbox: Sandbox) throws {
        self.init(generator: try PlanGenerator(client: client, configuration: configuration, sandbox: sandbox))
    }

    public func run(_ job: ClaimedJob, context: JobContext) async throws {
        guard let planID = job.planID else { throw JobPayloadError(jobID: job.id, kind: kind, missing: "plan_id") }
        guard let state = try await generator.generatingPlan(planID, context: context) else { return }
        try await generator.run(state: state, previous: nil, context: context)
    }
}

/// What generation and regeneration jobs share: the client, the prompts, and the sandbox probe that
/// tries the acceptance tests against an empty workspace (`CannotFailProbe`), on one thread of its own
/// so that the jobs of both kinds probe one at a time.
public struct PlanGenerator: Sendable {
    let client: LLMClient
    let configuration: GenerationConfiguration
    let prompts: PlanPrompts
    let probe: CannotFailProbe
    let pool: BlockingPool

    /// Loads the prompt templates, so a broken installation fails when the executor starts rather
    /// than on every job. The sandbox runs the generated acceptance tests once before any code exists.
    public init(client: LLMClient, configuration: GenerationConfiguration = .default, sandbox: Sandbox) throws {
        self.client = client
        self.configuration = configuration
        prompts = try PlanPrompts(configuration: configuration)
        probe = CannotFailProbe(sandbox: sandbox)
        pool = BlockingPool(threads: 1)
    }

    /// The plan's state when it is still `generating`; nil when it moved on (a draft already, or failed).
    func generatingPlan(_ planID: UUID, context: JobContext) async throws -> GenerationPlanState? {
        guard let state = try await context.database.run({ c in try GenerationQueries(c).planState(id: planID) }),
              state.status == PlanStatus.generating.rawValue else { return nil }
        return state
    }

    func run(state: GenerationPlanState, previous: PlanPrompts.PreviousPlan?, context: JobContext) async throws {
        try await PlanGenerationRun(generator: self, context: context, state: state, previous: previous).run()
    }
}
