import Foundation
import JSON
import LLM
import PlanCore
import Store

/// Why a generation stopped without a plan, in words for the person who asked for it.
///
/// A failure is *transient* when the model's provider failed (outage, rate limit, timeout, a cut
/// stream) after the client's own retries: running the job again later may well succeed, so the
/// handler throws it to the daemon, which requeues the job — unless this was the job's last attempt.
/// Every other failure (an answer still invalid after its repairs, a refusal, a request the provider
/// rejects) would fail the same way again: the plan becomes `generation_failed` and the job ends
/// normally.
struct GenerationFailure: Error, CustomStringConvertible, Sendable {
    /// The step that failed (`masterplan_generation_failed.stage`).
    enum Stage: String, Sendable {
        case discovery
        case plan
        case acceptanceTests = "acceptance_tests"
    }

    var stage: Stage
    /// One or two sentences for the user (the plan's `status_reason`).
    var reason: String
    /// The provider's failure, when that is what stopped the generation.
    var llmError: LLMError?
    /// The validator's findings on the last answer, when the answer was what stayed wrong.
    var problems: PlanProblems?

    var isTransient: Bool { llmError?.isTransient ?? false }

    var description: String { "\(stage.rawValue): \(reason)" }

    /// The model could not be asked, or did not answer.
    static func llm(_ error: LLMError, stage: Stage) -> GenerationFailure {
        let what = stage.noun
        let reason: String
        // The provider's own words (first line) end the reason wherever it gave any.
        let said = error.providerMessageLine.map { " The provider said: “\($0)”" } ?? ""
        switch error.kind {
        case .rateLimited:
            reason = "The model's provider kept refusing requests (rate limit) while writing \(what); try again later." + said
        case .quotaExhausted:
            reason = "The model's provider refused the request for \(what): the account's quota or spend limit is reached; raise it, then ask again." + said
        case .connection:
            reason = "The model's provider could not be reached while writing \(what) (\(error.message)); check that it runs at the configured address, then try again." + said
        case .timeout, .streamCutOff, .providerStreamError:
            reason = "The model's provider stopped answering while writing \(what); try again later." + said
        case .http(let status) where status >= 500 || status == 408:
            reason = "The model's provider failed (HTTP \(status)) while writing \(what); try again later." + said
        case .http(let status):
            reason = "The model's provider refused the request for \(what) (HTTP \(status))"
                + (error.providerMessageLine.map { ": \($0)" } ?? ".")
        case .invalidAnswer:
            reason = "The model's answer for \(what) did not follow its schema: \(error.violations.prefix(3).joined(separator: "; "))."
        case .refused:
            reason = "The model declined to write \(what)."
        case .truncatedJSON:
            reason = "The model's answer for \(what) was cut off at its token limit; a smaller request or a larger limit may help."
        case .contextWindow:
            reason = "The request for \(what) and its answer do not fit the model's context window; a smaller request, or a model with a larger context window, may help." + said
        case .malformedStream:
            reason = "The model's provider sent an unreadable answer for \(what): \(error.message)."
        case .cancelled:
            reason = "The call for \(what) was cancelled."
        }
        return GenerationFailure(stage: stage, reason: reason, llmError: error)
    }

    /// The answer stayed invalid after every repair.
    static func invalid(_ problems: PlanProblems, stage: Stage, attempts: Int) -> GenerationFailure {
        let shown = problems.problems.prefix(3).map(\.description).joined(separator: "; ")
        let more = problems.count > 3 ? " (and \(problems.count - 3) more)" : ""
        let tries = attempts == 1 ? "1 answer" : "\(attempts) answers"
        return GenerationFailure(
            stage: stage,
            reason: "\(stage.sentenceStart) the model wrote was still invalid after \(tries): \(shown)\(more).",
            problems: problems)
    }

    /// The `masterplan_generation_failed` event of the plan, whose details the history entry records too.
    func event(planID: UUID, jobAttempt: Int) -> ProgressEvent.MasterplanGenerationFailed {
        ProgressEvent.MasterplanGenerationFailed(planID: planID, stage: stage.rawValue, reason: reason, transient: isTransient,
                                                 llmError: llmError?.description,
                                                 problems: problems.map { $0.problems.prefix(20).map(\.description) },
                                                 jobAttempt: jobAttempt)
    }
}

extension GenerationFailure.Stage {
    /// What the stage produces, for sentences.
    var noun: String {
        switch self {
        case .discovery: "the domain discovery"
        case .plan: "the plan"
        case .acceptanceTests: "the acceptance tests"
        }
    }

    /// `noun` at the start of a sentence.
    var sentenceStart: String {
        switch self {
        case .discovery: "The domain discovery"
        case .plan: "The plan"
        case .acceptanceTests: "The acceptance tests"
        }
    }
}
