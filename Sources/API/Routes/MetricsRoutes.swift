import Foundation
import PlanCore
import Store

extension APIApplication {
    /// `GET /metrics`: Prometheus text (format 0.0.4), computed from the database at each scrape.
    /// No authentication: nginx lets only local addresses reach it.
    func metrics() throws -> HTTPResponse {
        let snapshot = try MetricsQueries(try database()).snapshot()
        return HTTPResponse(status: 200,
                            headers: [("Content-Type", PrometheusText.contentType), ("Cache-Control", "no-store")],
                            body: Array(Self.metricsText(snapshot).utf8))
    }

    /// Upper bounds of the attempts-per-atom histogram (3 is the design's attempt limit; gate
    /// repairs and review regenerations continue the count).
    static let attemptBuckets = [1, 2, 3, 5, 10]

    /// The exposition of a snapshot. Statuses, priorities and job kinds are always all present (0
    /// when none), so a dashboard's series do not appear and vanish.
    public static func metricsText(_ s: MetricsSnapshot) -> String {
        var text = PrometheusText()

        func byLabel(_ name: String, _ help: String, label: String, known: [String], _ counts: [String: Int]) {
            text.family(name, .gauge, help)
            for value in known + counts.keys.filter({ !known.contains($0) }).sorted() {
                text.sample(name, [(label, value)], counts[value] ?? 0)
            }
        }

        byLabel("masterplan_plans", "Plans by status.", label: "status",
                known: PlanStatus.allCases.map(\.rawValue), s.plansByStatus)
        byLabel("masterplan_completed_plans", "Completed plans by how they were proven: verified (every acceptance test passed on the archived commit) or accepted_with_waivers.",
                label: "verification", known: ["verified", "accepted_with_waivers"], s.completedByVerification)
        byLabel("masterplan_waves", "Waves by status (wave progress over all plans).", label: "status",
                known: WaveStatus.allCases.map(\.rawValue), s.wavesByStatus)
        byLabel("masterplan_atoms", "Atoms by status: succeeded and approved ones are accepted, failed and rejected ones are not.",
                label: "status", known: AtomStatus.allCases.map(\.rawValue), s.atomsByStatus)

        // Retries: a histogram of attempts per atom (retries = attempts - 1), over atoms that made one.
        text.family("masterplan_atom_attempts", .histogram,
                    "Attempts per atom, over atoms that made at least one (retries = attempts - 1); from the current rows.")
        var attempted = 0
        var attemptSum = 0
        for (attempts, count) in s.atomsByAttempts {
            attempted += count
            attemptSum += attempts * count
        }
        for bound in attemptBuckets {
            let cumulative = s.atomsByAttempts.filter { $0.key <= bound }.reduce(0) { $0 + $1.value }
            text.sample("masterplan_atom_attempts_bucket", [("le", String(bound))], cumulative)
        }
        text.sample("masterplan_atom_attempts_bucket", [("le", "+Inf")], attempted)
        text.sample("masterplan_atom_attempts_sum", [], attemptSum)
        text.sample("masterplan_atom_attempts_count", [], attempted)
        text.family("masterplan_atom_retries", .gauge, "Retries made by all atoms (attempts beyond each atom's first).")
        text.sample("masterplan_atom_retries", [], attemptSum - attempted)

        text.family("masterplan_atom_confidence", .histogram,
                    "Confidence of scored atoms; below 0.7 goes to review, below 0.5 with high priority.")
        for (index, bound) in MetricsQueries.confidenceBounds.enumerated() {
            let count = index < s.confidence.atOrBelow.count ? s.confidence.atOrBelow[index] : 0
            text.sample("masterplan_atom_confidence_bucket", [("le", PrometheusText.format(bound))], count)
        }
        text.sample("masterplan_atom_confidence_bucket", [("le", "+Inf")], s.confidence.count)
        text.sample("masterplan_atom_confidence_sum", [], s.confidence.sum)
        text.sample("masterplan_atom_confidence_count", [], s.confidence.count)
        text.family("masterplan_atom_confidence_average", .gauge, "Average confidence of scored atoms (NaN when none is scored).")
        text.sample("masterplan_atom_confidence_average", [],
                    s.confidence.count > 0 ? s.confidence.sum / Double(s.confidence.count) : .nan)

        let testStatuses = ["pass", "fail", "error", "timeout"]
        text.family("masterplan_acceptance_test_runs_total", .counter, "Acceptance test runs by result.")
        for status in testStatuses + s.testRunsByStatus.keys.filter({ !testStatuses.contains($0) }).sorted() {
            text.sample("masterplan_acceptance_test_runs_total", [("status", status)], s.testRunsByStatus[status] ?? 0)
        }
        let runs = s.testRunsByStatus.values.reduce(0, +)
        text.family("masterplan_acceptance_pass_ratio", .gauge, "Share of acceptance test runs that passed (NaN before the first run).")
        text.sample("masterplan_acceptance_pass_ratio", [],
                    runs > 0 ? Double(s.testRunsByStatus["pass"] ?? 0) / Double(runs) : .nan)
        text.family("masterplan_gate_evaluations_total", .counter, "Gate S evaluations (per wave and repair round) by result.")
        text.sample("masterplan_gate_evaluations_total", [("result", "passed")], s.gatesPassed)
        text.sample("masterplan_gate_evaluations_total", [("result", "failed")], s.gatesFailed)

        byLabel("masterplan_reviews", "Reviews by status.", label: "status",
                known: ReviewStatus.allCases.map(\.rawValue), s.reviewsByStatus)
        byLabel("masterplan_review_queue", "Pending reviews by priority (the review queue).", label: "priority",
                known: ReviewPriority.allCases.map(\.rawValue), s.pendingReviewsByPriority)
        text.family("masterplan_review_queue_blocking", .gauge, "Pending reviews that stop their wave until resolved.")
        text.sample("masterplan_review_queue_blocking", [], s.pendingBlockingReviews)

        text.family("masterplan_jobs", .gauge, "Executor jobs by kind and state (queued ones wait for an executor).")
        var jobCounts: [String: Int] = [:]
        for job in s.jobs { jobCounts[job.kind + "\u{0}" + job.state] = job.count }
        let kinds = JobKind.allCases.map(\.rawValue) + s.jobs.map(\.kind).filter { JobKind(rawValue: $0) == nil }
        let states = JobState.allCases.map(\.rawValue) + s.jobs.map(\.state).filter { JobState(rawValue: $0) == nil }
        for kind in Array(Set(kinds)).sorted() {
            for state in Array(Set(states)).sorted() {
                text.sample("masterplan_jobs", [("kind", kind), ("state", state)], jobCounts[kind + "\u{0}" + state] ?? 0)
            }
        }

        // Cost per plan: one series per plan still in use (active, or changed in the last days; at
        // most a few hundred — plans are made by people, a handful a day), plus a summary over all
        // plans so that finished ones still count.
        text.family("masterplan_plan_cost_usd", .gauge,
                    "LLM cost so far of each plan that is active or changed in the last \(MetricsQueries.recentPlanDays) days, in USD.")
        for plan in s.planCosts {
            text.sample("masterplan_plan_cost_usd", [("plan_id", plan.planID.uuidString.lowercased())], plan.costUSD)
        }
        text.family("masterplan_plan_budget_usd", .gauge, "Budget of the same plans, in USD (the plan pauses at 100 %).")
        for plan in s.planCosts {
            text.sample("masterplan_plan_budget_usd", [("plan_id", plan.planID.uuidString.lowercased())], plan.budgetUSD)
        }
        text.family("masterplan_plans_cost_usd", .summary, "LLM cost of all plans, in USD: sum and number of plans.")
        text.sample("masterplan_plans_cost_usd_sum", [], s.allPlansCostUSD)
        text.sample("masterplan_plans_cost_usd_count", [], s.allPlansCount)

        text.family("masterplan_llm_calls_total", .counter, "LLM calls by purpose and outcome.")
        for call in s.llmCalls {
            text.sample("masterplan_llm_calls_total", [("purpose", call.purpose), ("status", call.status)], call.calls)
        }
        var purposes: [String: MetricsSnapshot.LLMCallTally] = [:]
        for call in s.llmCalls {
            if var sum = purposes[call.purpose] {
                sum.calls += call.calls
                sum.inputTokens += call.inputTokens
                sum.outputTokens += call.outputTokens
                sum.cachedTokens += call.cachedTokens
                sum.costUSD += call.costUSD
                sum.callsWithoutUsage += call.callsWithoutUsage
                sum.callsWithoutCost += call.callsWithoutCost
                sum.estimatedCalls += call.estimatedCalls
                sum.cacheReportedInputTokens += call.cacheReportedInputTokens
                sum.cacheReportedCachedTokens += call.cacheReportedCachedTokens
                purposes[call.purpose] = sum
            } else {
                purposes[call.purpose] = call
            }
        }
        let byPurpose = purposes.values.sorted { $0.purpose < $1.purpose }
        text.family("masterplan_llm_tokens_total", .counter,
                    "LLM tokens by purpose and type: input (cached ones included), output, cached (input read from the prompt cache); "
                    + "as the providers reported them, or estimated from the text where they reported none "
                    + "(see masterplan_llm_calls_estimated_usage_total and masterplan_llm_calls_unknown_usage_total).")
        for p in byPurpose {
            text.sample("masterplan_llm_tokens_total", [("purpose", p.purpose), ("type", "input")], p.inputTokens)
            text.sample("masterplan_llm_tokens_total", [("purpose", p.purpose), ("type", "output")], p.outputTokens)
            text.sample("masterplan_llm_tokens_total", [("purpose", p.purpose), ("type", "cached")], p.cachedTokens)
        }
        text.family("masterplan_llm_cost_usd_total", .counter,
                    "LLM cost by purpose, in USD (calls of unpriced models are not in it; see masterplan_llm_calls_unknown_cost_total).")
        for p in byPurpose { text.sample("masterplan_llm_cost_usd_total", [("purpose", p.purpose)], p.costUSD) }
        text.family("masterplan_llm_calls_unknown_usage_total", .counter, "LLM calls whose provider reported no token counts.")
        for p in byPurpose { text.sample("masterplan_llm_calls_unknown_usage_total", [("purpose", p.purpose)], p.callsWithoutUsage) }
        text.family("masterplan_llm_calls_unknown_cost_total", .counter, "LLM calls of a model missing from the price table (cost unknown).")
        for p in byPurpose { text.sample("masterplan_llm_calls_unknown_cost_total", [("purpose", p.purpose)], p.callsWithoutCost) }
        text.family("masterplan_llm_calls_estimated_usage_total", .counter,
                    "LLM calls whose provider reported no token counts, so their tokens (and cost) were estimated from the text.")
        for p in byPurpose { text.sample("masterplan_llm_calls_estimated_usage_total", [("purpose", p.purpose)], p.estimatedCalls) }

        // The cached-input share as a ratio-friendly pair over the same calls (those that reported
        // both counts), and the share itself over all time (README "Health and metrics").
        text.family("masterplan_llm_cache_reported_input_tokens_total", .counter,
                    "Input tokens of the LLM calls whose provider reported both input and cached input tokens, by purpose.")
        for p in byPurpose {
            text.sample("masterplan_llm_cache_reported_input_tokens_total", [("purpose", p.purpose)], p.cacheReportedInputTokens)
        }
        text.family("masterplan_llm_cache_read_input_tokens_total", .counter,
                    "Of those input tokens, the ones read from the provider's prompt cache, by purpose.")
        for p in byPurpose {
            text.sample("masterplan_llm_cache_read_input_tokens_total", [("purpose", p.purpose)], p.cacheReportedCachedTokens)
        }
        text.family("masterplan_llm_cached_input_share", .gauge,
                    "Share of input tokens read from the prompt cache since the start, by purpose (NaN when no call reported both counts).")
        for p in byPurpose {
            text.sample("masterplan_llm_cached_input_share", [("purpose", p.purpose)],
                        p.cacheReportedInputTokens > 0 ? min(1, Double(p.cacheReportedCachedTokens) / Double(p.cacheReportedInputTokens)) : .nan)
        }
        return text.output
    }
}

/// Builds Prometheus text exposition format 0.0.4: `# HELP` and `# TYPE` once per family, then
/// its samples, each line ending in `\n`.
public struct PrometheusText: Sendable {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public enum MetricType: String, Sendable {
        case counter, gauge, histogram, summary, untyped
    }

    public private(set) var output = ""

    public init() {}

    /// Starts a family: its HELP (backslash and newline escaped) and TYPE lines.
    public mutating func family(_ name: String, _ type: MetricType, _ help: String) {
        let escaped = help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
        output += "# HELP \(name) \(escaped)\n# TYPE \(name) \(type.rawValue)\n"
    }

    public mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Int) {
        line(name, labels, String(value))
    }

    public mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        line(name, labels, Self.format(value))
    }

    mutating func line(_ name: String, _ labels: [(String, String)], _ value: String) {
        output += name
        if !labels.isEmpty {
            output += "{" + labels.map { "\($0.0)=\"\(Self.escapeLabelValue($0.1))\"" }.joined(separator: ",") + "}"
        }
        output += " " + value + "\n"
    }

    /// A label value with backslash, double quote and newline escaped.
    public static func escapeLabelValue(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    /// A float as Prometheus reads it: `NaN`, `+Inf`, `-Inf`, else Swift's shortest round-trip form.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        return "\(value)"
    }
}
