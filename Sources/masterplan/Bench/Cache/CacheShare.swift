import Foundation
import LLM
import Postgres

/// The share of a plan's atom input tokens read from the cache: from `llm_calls` (what the executor
/// recorded) and, for the old layout, from the replay server's instructions-only simulation.
struct CacheShare {
    var calls: Int
    var inputTokens: Int
    var cachedTokens: Int
    var totals: PromptCacheSimulator.Totals

    init(connection: Connection, planID: UUID, totals: [String: PromptCacheSimulator.Totals]) throws {
        let row = try connection.query("""
            SELECT count(*), coalesce(sum(input_tokens), 0)::bigint, coalesce(sum(cached_tokens), 0)::bigint
            FROM llm_calls WHERE plan_id = $1 AND purpose = 'atom' AND status = 'ok'
            """, [planID]).first!
        calls = try row.decode(Int.self, 0)
        inputTokens = try row.decode(Int.self, 1)
        cachedTokens = try row.decode(Int.self, 2)
        self.totals = totals[LLMRequest.Purpose.atom.rawValue] ?? PromptCacheSimulator.Totals()
    }

    var after: Double { inputTokens > 0 ? Double(cachedTokens) / Double(inputTokens) : 0 }
    var before: Double { totals.promptTokens > 0 ? Double(totals.instructionsOnlyCachedTokens) / Double(totals.promptTokens) : 0 }

    func print(label: String) {
        let padded = (label + ":").padding(toLength: 11, withPad: " ", startingAt: 0)
        var line = "\(padded)\(calls) atom calls, \(inputTokens) input tokens, \(cachedTokens) read from the cache "
            + "(\(inputTokens > 0 ? inputTokens / max(calls, 1) : 0) a call); instructions alone: \(totals.instructionsOnlyCachedTokens) cached"
        if totals.requests != calls || totals.promptTokens != inputTokens || totals.cachedTokens != cachedTokens {
            line += " (the replay server counted \(totals.requests) calls, \(totals.promptTokens) input, \(totals.cachedTokens) cached)"
        }
        Swift.print(line)
    }

    static func format(_ share: Double) -> String { String(format: "%.2f", share) }
}
