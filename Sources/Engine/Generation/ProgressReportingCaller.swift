import Foundation
import JSON
import LLM
import Store

/// Makes one streamed LLM call and reports its progress as events: while the answer arrives, at most
/// one event per `interval` with the characters and chunks received so far; when it is complete, one
/// more with the provider's token counts. Counts are real — what arrived — never estimates; a
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
        var type: GenerationEvent
        var ownerID: UUID
        var planID: UUID
        /// Members every event of the call carries (plan_id, stage, attempt).
        var data: JSONObject
    }

    /// Runs `request` to its end; throws the client's `LLMError` when the call fails.
    func call(_ request: LLMRequest, attribution: LLMAttribution, report: Report) async throws(LLMError) -> LLMResult {
        let clock = ContinuousClock()
        let started = clock.now
        var lastReport = started
        var characters = 0
        var chunks = 0
        var result: LLMResult?
        do {
            for try await event in client.stream(request, attribution: attribution) {
                switch event {
                case .text(let piece):
                    characters += piece.count
                    chunks += 1
                    let now = clock.now
                    if now - lastReport >= interval {
                        lastReport = now
                        await emit(report, ["characters": JSONValue(characters), "chunks": JSONValue(chunks),
                                            "elapsed_ms": JSONValue((now - started).wholeMilliseconds), "done": false])
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
        await emit(report, ["characters": JSONValue(characters), "chunks": JSONValue(chunks),
                            "elapsed_ms": JSONValue((clock.now - started).wholeMilliseconds), "done": true,
                            "input_tokens": result.usage.inputTokens.map { JSONValue($0) } ?? .null,
                            "output_tokens": result.usage.outputTokens.map { JSONValue($0) } ?? .null,
                            "model": .string(result.model)])
        return result
    }

    private func emit(_ report: Report, _ progress: JSONObject) async {
        var data = report.data
        for (key, value) in progress { data[key] = value }
        let type = report.type.rawValue, owner = report.ownerID, plan = report.planID, payload = data
        _ = try? await database.run { c in
            try EventFeed(c).emit(type: type, ownerID: owner, planID: plan, data: payload)
        }
    }
}
