import Foundation
import JSON
import Postgres

/// What a user's LLM calls cost, from the one ledger (`llm_calls`).
public struct UsageQueries {
    public let connection: Connection

    public init(_ connection: Connection) { self.connection = connection }

    /// Totals since `since` (all time when nil), and the same split by purpose, by model and by plan.
    public func usage(ownerID: UUID, since: Date?) throws -> JSONValue {
        try connection.query(
            """
            WITH c AS (SELECT * FROM llm_calls WHERE owner_id = $1 AND ($2::timestamptz IS NULL OR created_at >= $2::timestamptz))
            SELECT json_build_object(
                'since', $2::timestamptz,
                'calls', (SELECT count(*) FROM c),
                'input_tokens', (SELECT coalesce(sum(input_tokens), 0) FROM c),
                'output_tokens', (SELECT coalesce(sum(output_tokens), 0) FROM c),
                'cached_tokens', (SELECT coalesce(sum(cached_tokens), 0) FROM c),
                'cost_usd', (SELECT coalesce(sum(cost_usd), 0) FROM c),
                'by_purpose', coalesce((SELECT json_agg(x ORDER BY x.cost_usd DESC, x.purpose) FROM (
                    SELECT purpose, count(*) AS calls, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
                           sum(cost_usd) AS cost_usd FROM c GROUP BY purpose) x), '[]'::json),
                'by_model', coalesce((SELECT json_agg(x ORDER BY x.cost_usd DESC, x.model) FROM (
                    SELECT provider, model, count(*) AS calls, sum(input_tokens) AS input_tokens,
                           sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd
                    FROM c GROUP BY provider, model) x), '[]'::json),
                'by_plan', coalesce((SELECT json_agg(x ORDER BY x.cost_usd DESC, x.plan_id) FROM (
                    SELECT plan_id, count(*) AS calls, sum(cost_usd) AS cost_usd FROM c
                    WHERE plan_id IS NOT NULL GROUP BY plan_id) x), '[]'::json))
            """,
            [ownerID, since]).first!.decode(JSONValue.self, 0)
    }
}
