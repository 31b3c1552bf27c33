import Foundation
import JSON
import Postgres

/// What a user's LLM calls cost, from the one ledger (`llm_calls`).
///
/// Nothing unknown reads as 0 here. A sum is null when none of its calls knows the value (0 only when
/// there are no calls at all); `calls_without_usage` and `calls_without_cost` count the calls a sum
/// could not include, and `estimated_calls` / `usage_estimated` say when a sum includes tokens the client
/// estimated from the text because the provider reported none (`LLMCallRecord.usageEstimated`).
public struct UsageQueries {
    public let connection: Connection

    public init(_ connection: Connection) { self.connection = connection }

    /// The calls whose input tokens and cached input tokens were both reported by the provider: the
    /// only ones the cached-input share is computed over (an estimate knows nothing of the cache, and a
    /// server that reports no cached count would read as "nothing cached"). `/metrics` uses it too.
    public static let reportsCacheSQL = "input_tokens IS NOT NULL AND cached_tokens IS NOT NULL AND NOT usage_estimated"

    /// The figures of one group of `llm_calls` rows (aggregate expressions over the group). The share is
    /// null without a call that reported both counts (`least` alone would turn that NULL into 1), and at
    /// most 1 even from a provider whose cached count exceeds its input count.
    static let figuresSQL = """
        count(*) AS calls,
        CASE WHEN count(*) = 0 THEN 0 ELSE sum(input_tokens) END AS input_tokens,
        CASE WHEN count(*) = 0 THEN 0 ELSE sum(output_tokens) END AS output_tokens,
        CASE WHEN count(*) = 0 THEN 0 ELSE sum(cached_tokens) END AS cached_input_tokens,
        CASE WHEN sum(input_tokens) FILTER (WHERE \(reportsCacheSQL)) > 0
             THEN least(1, round((sum(cached_tokens) FILTER (WHERE \(reportsCacheSQL)))::numeric
                                 / sum(input_tokens) FILTER (WHERE \(reportsCacheSQL)), 4))::float8
        END AS cached_input_share,
        CASE WHEN count(*) = 0 THEN 0 ELSE sum(cost_usd) END AS cost_usd,
        count(*) FILTER (WHERE usage_estimated) AS estimated_calls,
        coalesce(bool_or(usage_estimated), false) AS usage_estimated,
        count(*) FILTER (WHERE input_tokens IS NULL OR output_tokens IS NULL) AS calls_without_usage,
        count(*) FILTER (WHERE cost_usd IS NULL) AS calls_without_cost
        """

    /// Totals since `since` (all time when nil), and the same figures by purpose, by model and by plan.
    public func usage(ownerID: UUID, since: Date?) throws -> JSONValue {
        try connection.query(
            """
            WITH c AS (SELECT * FROM llm_calls WHERE owner_id = $1 AND ($2::timestamptz IS NULL OR created_at >= $2::timestamptz))
            SELECT to_jsonb(t) || jsonb_build_object(
                'since', $2::timestamptz,
                'cached_tokens', t.cached_input_tokens,
                'by_purpose', coalesce((SELECT jsonb_agg(x ORDER BY x.cost_usd DESC NULLS LAST, x.calls DESC, x.purpose) FROM (
                    SELECT purpose, \(Self.figuresSQL) FROM c GROUP BY purpose) x), '[]'::jsonb),
                'by_model', coalesce((SELECT jsonb_agg(x ORDER BY x.cost_usd DESC NULLS LAST, x.calls DESC, x.provider, x.model) FROM (
                    SELECT provider, model, \(Self.figuresSQL) FROM c GROUP BY provider, model) x), '[]'::jsonb),
                'by_plan', coalesce((SELECT jsonb_agg(x ORDER BY x.cost_usd DESC NULLS LAST, x.calls DESC, x.plan_id) FROM (
                    SELECT g.*, p.project_name FROM (
                        SELECT plan_id, \(Self.figuresSQL) FROM c WHERE plan_id IS NOT NULL GROUP BY plan_id) g
                    LEFT JOIN masterplans p ON p.id = g.plan_id) x), '[]'::jsonb))
            FROM (SELECT \(Self.figuresSQL) FROM c) t
            """,
            [ownerID, since]).first!.decode(JSONValue.self, 0)
    }
}
