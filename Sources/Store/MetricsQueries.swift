import Foundation
import JSON
import Postgres

/// What `/metrics` reports, read from the database in one statement at scrape time.
///
/// Counts are grouped by status, priority, purpose or kind — never by atom, task or user — so the
/// number of series stays bounded. The one per-plan figure (`planCosts`) is limited to the plans a
/// person is still working with (see `MetricsQueries.recentPlanDays`).
public struct MetricsSnapshot: Sendable, Equatable {
    /// `masterplans` by status.
    public var plansByStatus: [String: Int] = [:]
    /// Completed plans by how they were proven: verified, or accepted_with_waivers.
    public var completedByVerification: [String: Int] = [:]
    /// `waves` by status.
    public var wavesByStatus: [String: Int] = [:]
    /// `atoms` by status.
    public var atomsByStatus: [String: Int] = [:]
    /// Atoms that made at least one attempt, by their number of attempts.
    public var atomsByAttempts: [Int: Int] = [:]
    /// Confidence of the atoms that have one.
    public var confidence = Confidence()
    /// `test_runs` (acceptance test runs) by status.
    public var testRunsByStatus: [String: Int] = [:]
    /// Gate S evaluations that passed and that failed.
    public var gatesPassed = 0
    public var gatesFailed = 0
    /// `reviews` by status.
    public var reviewsByStatus: [String: Int] = [:]
    /// Pending reviews by priority (the review queue).
    public var pendingReviewsByPriority: [String: Int] = [:]
    /// Pending reviews that stop their wave.
    public var pendingBlockingReviews = 0
    /// `jobs` by kind and state.
    public var jobs: [JobCount] = []
    /// `llm_calls` by purpose and status.
    public var llmCalls: [LLMCallTally] = []
    /// Cost and budget of the plans still in use (active, or changed recently).
    public var planCosts: [PlanCost] = []
    /// Every plan: how many, and what they cost together.
    public var allPlansCount = 0
    public var allPlansCostUSD = 0.0

    public init() {}

    /// Confidence values summarised: count, sum, and how many are at or below each bound.
    public struct Confidence: Sendable, Equatable {
        public var count = 0
        public var sum = 0.0
        /// Cumulative counts for `MetricsQueries.confidenceBounds`, in that order.
        public var atOrBelow: [Int] = []
        public init() {}
    }

    public struct JobCount: Sendable, Equatable {
        public var kind: String
        public var state: String
        public var count: Int
    }

    public struct LLMCallTally: Sendable, Equatable {
        public var purpose: String
        public var status: String
        public var calls: Int
        public var inputTokens: Int
        public var outputTokens: Int
        public var cachedTokens: Int
        public var costUSD: Double
        /// Calls whose provider reported no token counts (NULL in the ledger; not counted as 0 tokens).
        public var callsWithoutUsage: Int
        /// Calls of a model missing from the price table (NULL cost; not counted as free).
        public var callsWithoutCost: Int
        /// Calls whose tokens the client estimated from the text (`llm_calls.usage_estimated`).
        public var estimatedCalls: Int
        /// Over the calls that reported input and cached input tokens (`UsageQueries.reportsCacheSQL`):
        /// their input tokens and the cached part of them, the two sides of the cached-input share.
        public var cacheReportedInputTokens: Int
        public var cacheReportedCachedTokens: Int
    }

    public struct PlanCost: Sendable, Equatable {
        public var planID: UUID
        public var status: String
        public var costUSD: Double
        public var budgetUSD: Double
    }
}

/// SQL behind `/metrics`.
public struct MetricsQueries {
    public let connection: Connection

    public init(_ connection: Connection) { self.connection = connection }

    /// Upper bounds of the confidence histogram: the review threshold (0.70) and the high-priority
    /// threshold (0.50) are bucket edges, so "how many would be reviewed" is one bucket.
    public static let confidenceBounds: [Double] = [0.5, 0.7, 0.9, 1.0]

    /// A finished plan keeps its cost series this many days after its last change.
    public static let recentPlanDays = 7
    /// At most this many per-plan cost series, newest plans first.
    public static let planCostLimit = 200

    /// Statuses in which a plan is still being worked on (its cost series is always reported).
    static let activePlanStatuses = ["generating", "draft", "approved", "queued", "executing", "blocked", "paused"]

    /// Reads every figure in one statement (one snapshot of the database).
    public func snapshot() throws -> MetricsSnapshot {
        let bounds = Self.confidenceBounds.map { "count(*) FILTER (WHERE confidence <= \($0))" }.joined(separator: ", ")
        let json = try connection.query(
            """
            SELECT json_build_object(
                'plans', (SELECT coalesce(json_object_agg(status, n), '{}') FROM
                    (SELECT status, count(*) AS n FROM masterplans GROUP BY status) x),
                'completed', (SELECT coalesce(json_object_agg(verification, n), '{}') FROM
                    (SELECT verification, count(*) AS n FROM masterplans WHERE status = 'completed' AND verification IS NOT NULL
                     GROUP BY verification) x),
                'waves', (SELECT coalesce(json_object_agg(status, n), '{}') FROM
                    (SELECT status, count(*) AS n FROM waves GROUP BY status) x),
                'atoms', (SELECT coalesce(json_object_agg(status, n), '{}') FROM
                    (SELECT status, count(*) AS n FROM atoms GROUP BY status) x),
                'attempts', (SELECT coalesce(json_object_agg(attempts, n), '{}') FROM
                    (SELECT attempts, count(*) AS n FROM atoms WHERE attempts > 0 GROUP BY attempts) x),
                'confidence', (SELECT json_build_object('count', count(confidence), 'sum', coalesce(sum(confidence), 0),
                                                        'at_or_below', json_build_array(\(bounds)))
                               FROM atoms WHERE confidence IS NOT NULL),
                'test_runs', (SELECT coalesce(json_object_agg(status, n), '{}') FROM
                    (SELECT status, count(*) AS n FROM test_runs WHERE kind = 'gate' GROUP BY status) x),
                'gates', (SELECT json_build_object('passed', count(*) FILTER (WHERE passed),
                                                   'failed', count(*) FILTER (WHERE NOT passed)) FROM gate_results),
                'reviews', (SELECT coalesce(json_object_agg(status, n), '{}') FROM
                    (SELECT status, count(*) AS n FROM reviews GROUP BY status) x),
                'pending_reviews', (SELECT coalesce(json_object_agg(priority, n), '{}') FROM
                    (SELECT priority, count(*) AS n FROM reviews WHERE status = 'pending' GROUP BY priority) x),
                'pending_blocking_reviews', (SELECT count(*) FROM reviews WHERE status = 'pending' AND blocking),
                'jobs', (SELECT coalesce(json_agg(json_build_object('kind', kind, 'state', state, 'n', n)
                                                  ORDER BY kind, state), '[]') FROM
                    (SELECT kind, state, count(*) AS n FROM jobs GROUP BY kind, state) x),
                'llm', (SELECT coalesce(json_agg(x ORDER BY x.purpose, x.status), '[]') FROM
                    (SELECT purpose, status, count(*) AS calls,
                            coalesce(sum(input_tokens), 0) AS input_tokens,
                            coalesce(sum(output_tokens), 0) AS output_tokens,
                            coalesce(sum(cached_tokens), 0) AS cached_tokens,
                            coalesce(sum(cost_usd), 0) AS cost_usd,
                            count(*) FILTER (WHERE input_tokens IS NULL OR output_tokens IS NULL) AS without_usage,
                            count(*) FILTER (WHERE cost_usd IS NULL) AS without_cost,
                            count(*) FILTER (WHERE usage_estimated) AS estimated,
                            coalesce(sum(input_tokens) FILTER (WHERE \(UsageQueries.reportsCacheSQL)), 0) AS cache_reported_input,
                            coalesce(sum(cached_tokens) FILTER (WHERE \(UsageQueries.reportsCacheSQL)), 0) AS cache_reported_cached
                     FROM llm_calls GROUP BY purpose, status) x),
                'plan_costs', (SELECT coalesce(json_agg(x ORDER BY x.created_at DESC), '[]') FROM
                    (SELECT id, status, actual_cost_usd, budget_usd, created_at FROM masterplans
                     WHERE status = ANY($1::text[]) OR updated_at > now() - make_interval(days => $2)
                     ORDER BY created_at DESC LIMIT $3) x),
                'all_plans', (SELECT json_build_object('count', count(*), 'cost_usd', coalesce(sum(actual_cost_usd), 0))
                              FROM masterplans))
            """,
            [Self.activePlanStatuses, Self.recentPlanDays, Self.planCostLimit]).first!.decode(JSONValue.self, 0)
        return Self.snapshot(from: json)
    }

    static func counts(_ value: JSONValue?) -> [String: Int] {
        var counts: [String: Int] = [:]
        for (key, count) in value?.objectValue ?? [:] { counts[key] = Int(count.intValue ?? 0) }
        return counts
    }

    static func snapshot(from json: JSONValue) -> MetricsSnapshot {
        var s = MetricsSnapshot()
        s.plansByStatus = counts(json["plans"])
        s.completedByVerification = counts(json["completed"])
        s.wavesByStatus = counts(json["waves"])
        s.atomsByStatus = counts(json["atoms"])
        for (attempts, count) in counts(json["attempts"]) {
            if let attempts = Int(attempts) { s.atomsByAttempts[attempts] = count }
        }
        s.confidence.count = Int(json["confidence"]?["count"]?.intValue ?? 0)
        s.confidence.sum = json["confidence"]?["sum"]?.doubleValue ?? 0
        s.confidence.atOrBelow = (json["confidence"]?["at_or_below"]?.arrayValue ?? []).map { Int($0.intValue ?? 0) }
        s.testRunsByStatus = counts(json["test_runs"])
        s.gatesPassed = Int(json["gates"]?["passed"]?.intValue ?? 0)
        s.gatesFailed = Int(json["gates"]?["failed"]?.intValue ?? 0)
        s.reviewsByStatus = counts(json["reviews"])
        s.pendingReviewsByPriority = counts(json["pending_reviews"])
        s.pendingBlockingReviews = Int(json["pending_blocking_reviews"]?.intValue ?? 0)
        s.jobs = (json["jobs"]?.arrayValue ?? []).map {
            .init(kind: $0["kind"]?.stringValue ?? "", state: $0["state"]?.stringValue ?? "", count: Int($0["n"]?.intValue ?? 0))
        }
        s.llmCalls = (json["llm"]?.arrayValue ?? []).map {
            .init(purpose: $0["purpose"]?.stringValue ?? "", status: $0["status"]?.stringValue ?? "",
                  calls: Int($0["calls"]?.intValue ?? 0), inputTokens: Int($0["input_tokens"]?.intValue ?? 0),
                  outputTokens: Int($0["output_tokens"]?.intValue ?? 0), cachedTokens: Int($0["cached_tokens"]?.intValue ?? 0),
                  costUSD: $0["cost_usd"]?.doubleValue ?? 0, callsWithoutUsage: Int($0["without_usage"]?.intValue ?? 0),
                  callsWithoutCost: Int($0["without_cost"]?.intValue ?? 0), estimatedCalls: Int($0["estimated"]?.intValue ?? 0),
                  cacheReportedInputTokens: Int($0["cache_reported_input"]?.intValue ?? 0),
                  cacheReportedCachedTokens: Int($0["cache_reported_cached"]?.intValue ?? 0))
        }
        s.planCosts = (json["plan_costs"]?.arrayValue ?? []).compactMap { row in
            guard let id = row["id"]?.stringValue.flatMap(UUID.init(uuidString:)) else { return nil }
            return .init(planID: id, status: row["status"]?.stringValue ?? "", costUSD: row["actual_cost_usd"]?.doubleValue ?? 0,
                         budgetUSD: row["budget_usd"]?.doubleValue ?? 0)
        }
        s.allPlansCount = Int(json["all_plans"]?["count"]?.intValue ?? 0)
        s.allPlansCostUSD = json["all_plans"]?["cost_usd"]?.doubleValue ?? 0
        return s
    }
}
