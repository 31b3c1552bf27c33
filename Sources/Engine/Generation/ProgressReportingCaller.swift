import Base
import Foundation
import JSON
import LLM
import Postgres
import Store

/// Makes one streamed LLM call and reports its progress as events: while the answer arrives, at most
/// one event per `interval` with the characters and chunks received so far and the end of the answer
/// as written so far (`TokensProgress.text`); when it is complete, one more with the provider's token
/// counts. Counts are real — what arrived — never estimates; a
/// provider reports tokens only at the end of a stream, so the intermediate events count characters.
///
/// Progress events are best effort: a database hiccup loses one event rather than abandoning a call
/// that is already being paid for.
struct ProgressReportingCaller: Sendable {
    let client: LLMClient
    let database: AsyncDatabase
    let interval: Duration

    /// Where the progress events of one call go, and what each carries.
    struct Report: Sendable {
        /// Which generation's tokens the call writes: the discovery's or the plan's (with its tests).
        enum Target: Sendable {
            case discovery
            case plan
        }

        var target: Target
        var ownerID: UUID
        var planID: UUID
        var step: ProgressEvent.TokensProgress.Step
        var attempt: Int
        /// For a plan repair: how many problems the answer being repaired had.
        var problems: Int?

        /// The event reporting `characters` and `chunks` after `elapsed` and the answer so far, with the
        /// provider's counts once the answer is complete.
        func event(characters: Int, chunks: Int, elapsed: Duration, text: String,
                   completion: ProgressEvent.TokensProgress.Completion?) -> ProgressEvent {
            let progress = ProgressEvent.TokensProgress(planID: planID, step: step, attempt: attempt, problems: problems,
                                                        characters: characters, chunks: chunks,
                                                        elapsedMilliseconds: elapsed.wholeMilliseconds, completion: completion,
                                                        text: text)
            return switch target {
            case .discovery: .discoveryTokensProgress(progress)
            case .plan: .masterplanTokensProgress(progress)
            }
        }
    }

    /// Runs `request` to its end; throws the client's `LLMError` when the call fails.
    func call(_ request: LLMRequest, attribution: LLMAttribution, report: Report) async throws(LLMError) -> LLMResult {
        let clock = ContinuousClock()
        let started = clock.now
        var lastReport = started
        var characters = 0
        var chunks = 0
        // The end of the answer so far, kept a little longer than an event carries.
        var text = ""
        var result: LLMResult?
        do {
            for try await event in client.stream(request, attribution: attribution) {
                switch event {
                case .text(let piece):
                    characters += piece.count
                    chunks += 1
                    text += piece
                    if text.count > 2 * ProgressEvent.TokensProgress.textLimit {
                        text = String(text.suffix(ProgressEvent.TokensProgress.textLimit))
                    }
                    let now = clock.now
                    if now - lastReport >= interval {
                        lastReport = now
                        await emit(report.event(characters: characters, chunks: chunks, elapsed: now - started, text: text, completion: nil),
                                   for: report)
                    }
                case .completed(let completed):
                    result = completed
                }
            }
        } catch let error as LLMError {
            throw error
        } catch {
            throw LLMError(kind: .cancelled, message: "the call ended with \(error)", provider: client.configuration.provider,
                           model: client.configuration.model)
        }
        guard let result else {
            throw LLMError(kind: .cancelled, message: "the answer stream ended without a result", provider: client.configuration.provider,
                           model: client.configuration.model)
        }
        let completion = ProgressEvent.TokensProgress.Completion(inputTokens: result.usage.inputTokens,
                                                                 outputTokens: result.usage.outputTokens, model: result.model)
        await emit(report.event(characters: characters, chunks: chunks, elapsed: clock.now - started, text: text,
                                completion: completion), for: report)
        return result
    }

    private func emit(_ event: ProgressEvent, for report: Report) async {
        let owner = report.ownerID, plan = report.planID
        _ = try? await database.run { c in
            try EventFeed(c).emit(event, ownerID: owner, planID: plan)
        }
    }
}
