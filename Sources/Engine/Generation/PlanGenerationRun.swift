import Base
import Foundation
import JSON
import LLM
import PlanCore
import Postgres
import Store

/// One run of generation for a plan in `generating`: discovery (unless one is stored), the plan with
/// its parse–validate–repair loop, the acceptance tests, the estimate, and one transaction storing it
/// all as the plan's next version — or, when the model cannot produce a usable plan, the plan marked
/// `generation_failed` with the reason.
///
/// Shared by `GenerationHandler` (a new plan) and `RegenerationHandler` (the next version of a draft).
/// Every step is safe to run again: a job resumed after a crash reuses the stored discovery, and a plan
/// that already left `generating` is not touched.
struct PlanGenerationRun: Sendable {
    let generator: PlanGenerator
    let context: JobContext
    let state: GenerationPlanState
    /// Set for a regeneration: the version it starts from and the reviewer's feedback; nil for a new plan.
    let previous: PlanPrompts.PreviousPlan?

    private var isRegeneration: Bool { previous != nil }

    private var client: LLMClient { generator.client }
    private var configuration: GenerationConfiguration { generator.configuration }
    private var prompts: PlanPrompts { generator.prompts }
    private var probe: CannotFailProbe { generator.probe }
    private var pool: BlockingPool { generator.pool }

    private var database: AsyncDatabase { context.database }
    private var planID: UUID { state.id }

    private var attribution: LLMAttribution {
        LLMAttribution(ownerID: state.ownerID, planID: state.id, jobID: context.job.id, conversationID: state.conversationID)
    }

    private var caller: ProgressReportingCaller {
        ProgressReportingCaller(client: client, database: database, interval: configuration.progressInterval)
    }

    /// Runs the generation to a stored draft or a recorded failure. Throws a transient failure (the
    /// provider was unreachable) while the job has attempts left, so the daemon runs it again later;
    /// throws `JobContext.Interruption` at a checkpoint, and database errors as they come.
    func run() async throws {
        do {
            let discovery = try await discovery()
            try context.checkpoint()
            if state.askQuestions, state.answers == nil, !isRegeneration, !discovery.clarifications.isEmpty {
                try await askQuestions(discovery)
                return
            }
            let plan = try await plan(discovery: discovery)
            try context.checkpoint()
            let tests = try await acceptanceTests(for: plan.validated)
            try context.checkpoint()
            let cannotFail = await testsThatCannotFail(tests, testCommand: plan.validated.plan.techStack.testCommand)
            try context.checkpoint()
            try await store(plan.validated, repairs: plan.repairs, tests: tests, cannotFail: cannotFail)
        } catch let failure as GenerationFailure {
            if failure.isTransient && context.job.attempts < context.job.maxAttempts { throw failure }
            try await giveUp(failure)
        }
    }

    // MARK: - Steps

    /// The stored discovery, or a new one made and stored (emitting `discovery_generation_start`,
    /// progress, and — through `PlanWriter` — `discovery_generation_complete`).
    private func discovery() async throws -> Discovery {
        // A stored discovery passed validation when it was stored; one that no longer reads (the schema
        // changed since) is made again rather than failing the plan.
        if let stored = state.discovery, let discovery = try? Discovery(json: stored) { return discovery }

        try await emit(.discoveryGenerationStart(.init(planID: planID, request: state.request, jobAttempt: context.job.attempts)))
        let parser = PlanParser(limits: configuration.limits(for: state.request))
        var request = try prompts.discovery(request: state.request)
        var usage = PlanWriter.Usage(model: client.configuration.model, inputTokens: 0, outputTokens: 0, costUSD: 0)
        let answers = 1 + configuration.discoveryRepairAttempts
        var lastProblems = PlanProblems([])
        for attempt in 1...answers {
            if attempt > 1 { try context.checkpoint() }
            let answer = try await ask(request, stage: .discovery, step: .discovery, attempt: attempt, target: .discovery)
            let result = answer.result
            usage.model = result.model
            usage.inputTokens += result.usage.inputTokens ?? 0
            usage.outputTokens += result.usage.outputTokens ?? 0
            usage.costUSD += result.costUSD ?? 0
            switch answer.parsed({ text throws(PlanProblems) in try parser.parseDiscovery(text) }) {
            case .success(let discovery):
                let planID = self.planID, spent = usage
                _ = try await database.run { c in
                    try PlanWriter(connection: c).storeDiscovery(planID: planID, discovery: discovery, usage: spent)
                }
                return discovery
            case .failure(let problems):
                lastProblems = problems
                request = prompts.correction(of: request, answer: result.text, problems: problems)
            }
        }
        throw GenerationFailure.invalid(lastProblems, stage: .discovery, attempts: answers)
    }

    /// The plan: one `masterplan` call, then up to `planRepairAttempts` `plan_repair` calls while the
    /// answer does not validate.
    private func plan(discovery: Discovery) async throws -> (validated: ValidatedPlan, repairs: Int) {
        let planID = self.planID, ownerID = state.ownerID, requestText = state.request
        let exampleCount = configuration.exampleCount, exampleTasks = configuration.exampleTaskLimit
        let examples = try await database.run { c in
            try GenerationQueries(c).similarApprovedPlans(ownerID: ownerID, request: requestText, excluding: planID,
                                                          limit: exampleCount, maxTasks: exampleTasks)
        }
        let budget = configuration.taskBudget(for: state.request)
        try await emit(.masterplanGenerationStart(.init(
            planID: planID, regeneration: isRegeneration, maxTasks: budget, examplePlanIDs: examples.map(\.id),
            jobAttempt: context.job.attempts, previous: previous.map { .init(version: $0.version, feedback: $0.feedback) })))

        let parser = PlanParser(limits: configuration.limits(for: state.request))
        var answer = try await ask(
            try prompts.masterplan(request: state.request, discovery: discovery, answers: state.answers, maxTasks: budget,
                                   examples: examples, previous: previous),
            stage: .plan, step: .plan, attempt: 1, target: .plan)
        var repairs = 0
        while true {
            let text = answer.result.text
            switch answer.parsed({ text throws(PlanProblems) in try parser.parsePlan(text) }) {
            case .success(let validated):
                return (validated, repairs)
            case .failure(let problems):
                guard repairs < configuration.planRepairAttempts else {
                    throw GenerationFailure.invalid(problems, stage: .plan, attempts: repairs + 1)
                }
                try context.checkpoint()
                repairs += 1
                answer = try await ask(try prompts.planRepair(request: state.request, answer: text, problems: problems),
                                       stage: .plan, step: .planRepair, attempt: repairs + 1, target: .plan,
                                       problems: problems.count)
            }
        }
    }

    /// The acceptance tests, checked against the plan (existing tasks, every MUST task covered), with
    /// up to `testRepairAttempts` corrected answers.
    private func acceptanceTests(for plan: ValidatedPlan) async throws -> [AcceptanceTest] {
        let parser = PlanParser(limits: configuration.limits(for: state.request))
        var request = try prompts.acceptanceTests(for: plan)
        let answers = 1 + configuration.testRepairAttempts
        var lastProblems = PlanProblems([])
        for attempt in 1...answers {
            if attempt > 1 { try context.checkpoint() }
            let answer = try await ask(request, stage: .acceptanceTests, step: .acceptanceTests, attempt: attempt,
                                       target: .plan)
            let result = answer.result
            switch answer.parsed({ text throws(PlanProblems) in try parser.parseAcceptanceTests(text, for: plan) }) {
            case .success(let tests):
                return tests
            case .failure(let problems):
                lastProblems = problems
                request = prompts.correction(of: request, answer: result.text, problems: problems)
            }
        }
        throw GenerationFailure.invalid(lastProblems, stage: .acceptanceTests, attempts: answers)
    }

    /// The tests that pass before any code exists, by name, with what their run printed: they cannot
    /// fail, and the plan cannot be approved until each is regenerated or confirmed with a reason.
    private func testsThatCannotFail(_ tests: [AcceptanceTest], testCommand: String) async -> [String: String] {
        let probe = self.probe
        let results = await pool.run { probe.probe(tests, testCommand: testCommand) }
        var cannotFail: [String: String] = [:]
        for result in results where result.outcome == .pass {
            cannotFail[result.name] = "passes against an empty workspace, before any code exists:\n" + String(result.output.suffix(8_000))
        }
        return cannotFail
    }

    /// Stores the plan as the next version, moving it to `draft`, and tells the conversation it came
    /// from — all in one transaction, events last.
    private func store(_ plan: ValidatedPlan, repairs: Int, tests: [AcceptanceTest], cannotFail: [String: String]) async throws {
        var policy = configuration.estimatePolicy
        if let price = client.prices.price(for: client.configuration.model) { policy.prices = price.estimateTable }
        let estimate = PlanEstimator.estimate(ExecutionPlan(plan), policy: policy)
        let note = changeNote(repairs: repairs)
        let planID = self.planID, regeneration = isRegeneration
        try await database.run { c in
            try c.transaction { c in
                let queries = GenerationQueries(c)
                guard let current = try queries.lockPlanState(id: planID), current.status == PlanStatus.generating.rawValue else {
                    return
                }
                // A regeneration that returned the plan it started from says so, everywhere it is shown.
                var sameAs: Int?
                if let previous, let snapshot = previous.snapshot, (try? MasterPlan(json: snapshot)) == plan.plan,
                   try queries.acceptanceTestKeys(planID: planID) == GenerationQueries.acceptanceTestKeys(of: tests) {
                    sameAs = previous.version
                }
                var message: (id: UUID, json: JSONValue)?
                if let conversation = current.conversationID {
                    let version = try queries.nextVersionNumber(planID: planID)
                    message = try ConversationQueries(c).addMessage(
                        conversationID: conversation, role: "assistant",
                        content: GenerationMessages.ready(plan, tests: tests, estimate: estimate, version: version,
                                                          regeneration: regeneration, sameAs: sameAs))
                }
                if !regeneration, let conversation = current.conversationID {
                    try ConversationQueries(c).nameAfterPlan(id: conversation, projectName: plan.plan.projectName, request: current.request)
                }
                try PlanWriter(connection: c).storeGeneratedPlan(planID: planID, plan: plan, tests: tests, estimate: estimate,
                                                                 changeNote: sameAs.map { note + ": the model returned the same plan as version \($0)" } ?? note,
                                                                 cannotFail: cannotFail, sameAsVersion: sameAs)
                if let message, let conversation = current.conversationID {
                    try GenerationMessages.emitChatMessage(message.json, conversationID: conversation, ownerID: current.ownerID,
                                                           planID: planID, on: c)
                }
            }
        }
    }

    /// Stops after a discovery with questions: the plan waits in `awaiting_answers` for the person
    /// (`POST …/answer` queues the rest of the generation), and its conversation lists the questions
    /// with the assumed answers.
    private func askQuestions(_ discovery: Discovery) async throws {
        let questions = discovery.clarifications.count
        let reason = "The discovery has \(questions) \(questions == 1 ? "question" : "questions") for you: answer "
            + "\(questions == 1 ? "it" : "them") or use the assumed answers, and the plan is generated from that."
        try await leaveGenerating(.askQuestions, reason: reason, message: GenerationMessages.questions(discovery),
                                  actor: "llm", historyEvent: "questions_asked", historyData: ["questions": JSONValue(questions)])
    }

    /// Marks the plan `generation_failed` with the failure's reason, with `masterplan_generation_failed`
    /// after the status change and a message in its conversation.
    private func giveUp(_ failure: GenerationFailure) async throws {
        let failed = failure.event(planID: planID, jobAttempt: context.job.attempts)
        try await leaveGenerating(.generationFailed, reason: failure.reason, message: GenerationMessages.failed(failure),
                                  actor: "system", historyEvent: "generation_failed", historyData: failed.historyData,
                                  then: [.masterplanGenerationFailed(failed)])
    }

    /// Moves the plan out of `generating` by `event` (nothing when it already left), in one transaction:
    /// the status with `reason`, a history entry, a message in its conversation (if it came from one),
    /// then the events: `plan_status_changed`, `then`, and the conversation's `chat_message`.
    private func leaveGenerating(_ event: PlanEvent, reason: String, message content: String, actor: String,
                                 historyEvent: String, historyData: JSONObject, then events: [ProgressEvent] = []) async throws {
        let planID = self.planID
        try await database.run { c in
            try c.transaction { c in
                guard let current = try GenerationQueries(c).lockPlanState(id: planID),
                      let from = PlanStatus(rawValue: current.status), from == .generating else { return }
                let to = try from.applying(event)
                var message: (id: UUID, json: JSONValue)?
                if let conversation = current.conversationID {
                    message = try ConversationQueries(c).addMessage(conversationID: conversation, role: "assistant", content: content)
                }
                let plans = PlanQueries(c)
                _ = try plans.changeStatus(id: planID, from: from.rawValue, to: to.rawValue, reason: reason)
                try plans.appendHistory(planID: planID, actor: actor, actorID: nil, event: historyEvent, data: historyData)
                let feed = EventFeed(c)
                try feed.emit(.planStatusChanged(.init(from: from, to: to, reason: reason)), ownerID: current.ownerID, planID: planID)
                for event in events { try feed.emit(event, ownerID: current.ownerID, planID: planID) }
                if let message, let conversation = current.conversationID {
                    try GenerationMessages.emitChatMessage(message.json, conversationID: conversation, ownerID: current.ownerID,
                                                           planID: planID, on: c)
                }
            }
        }
    }

    // MARK: - Calls and events

    /// An answer, with what the client found wrong with it against its schema.
    struct Answer {
        var result: LLMResult
        /// The client's schema violations (`LLMError.Kind.invalidAnswer`); empty for a valid document.
        var schemaViolations: [String]

        /// The parser's reading of the answer. The parser's problems come first (they are the more
        /// precise, with paths into the plan); a document the parser accepts that still breaks the
        /// schema is not accepted either: its violations are the problems sent back for repair.
        func parsed<T>(_ parse: (String) throws(PlanProblems) -> T) -> Result<T, PlanProblems> {
            let parsed = Result { () throws(PlanProblems) -> T in try parse(result.text) }
            guard case .success = parsed, !schemaViolations.isEmpty else { return parsed }
            return .failure(PlanProblems(schemaViolations.map { PlanProblem(.invalidValue, at: .root, "the answer breaks its JSON schema: \($0)") }))
        }
    }

    /// One LLM call with progress events; a provider failure becomes a `GenerationFailure`. An answer
    /// that breaks its schema is returned with the violations, for the repair loop.
    private func ask(_ request: LLMRequest, stage: GenerationFailure.Stage, step: ProgressEvent.TokensProgress.Step, attempt: Int,
                     target: ProgressReportingCaller.Report.Target, problems: Int? = nil) async throws -> Answer {
        let report = ProgressReportingCaller.Report(target: target, ownerID: state.ownerID, planID: planID, step: step,
                                                    attempt: attempt, problems: problems)
        do {
            return Answer(result: try await caller.call(request, attribution: attribution, report: report), schemaViolations: [])
        } catch {
            // A cancelled call means this task is being torn down, not that the model failed.
            if error.kind == .cancelled { throw CancellationError() }
            if error.kind == .invalidAnswer, let answer = error.answer {
                return Answer(result: answer, schemaViolations: error.violations)
            }
            throw GenerationFailure.llm(error, stage: stage)
        }
    }

    /// Emits a generation event of the plan (its own transaction).
    private func emit(_ event: ProgressEvent) async throws {
        let owner = state.ownerID, plan = planID
        try await database.run { c in _ = try EventFeed(c).emit(event, ownerID: owner, planID: plan) }
    }

    private func changeNote(repairs: Int) -> String {
        var note = "Generated from the request"
        if let previous {
            note = "Regenerated from version \(previous.version)"
            if let feedback = previous.feedback { note += " with the reviewer's feedback: \(feedback)" }
        }
        if repairs > 0 { note += " (\(repairs) \(repairs == 1 ? "repair" : "repairs") of the model's answer)" }
        return note
    }
}
