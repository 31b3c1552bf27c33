import API
import Foundation
import JSON
import Postgres
import TestSupport
import Testing

/// `GET /usage` and the plan's cost through nginx and the worker pool: what was reported, what was
/// estimated and what is unknown stay apart, and every answer fits the served OpenAPI document.
@Suite(.dedicatedThreads, .serialized) struct UsageEndToEndTests {
    let stack: APIStack

    init() throws {
        stack = try SharedStack.get()
    }

    /// The errors of `body` against the served document's schema `name` (empty when it fits).
    func schemaErrors(_ body: JSONValue?, _ name: String) throws -> [String] {
        let document = try #require(try stack.call("GET", "/api/v1/openapi.json").json)
        let body = try #require(body, "no JSON body")
        return OpenAPISchemas(document: document).errors(body, against: ["$ref": .string("#/components/schemas/\(name)")])
    }

    func row(_ rows: JSONValue?, _ key: String, _ value: String) -> JSONValue? {
        rows?.arrayValue?.first { $0[key]?.stringValue == value }
    }

    @Test func unknownUsageNoLongerCountsAsFree() throws {
        let user = try stack.user("usage")
        let other = try stack.user("usage-other")
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id)
        try db.execute(
            """
            INSERT INTO llm_calls (owner_id, plan_id, purpose, provider, model, input_tokens, output_tokens, cached_tokens,
                                   cost_usd, usage_estimated, latency_ms, status, error)
            VALUES ($1, $2, 'atom', 'anthropic', 'claude', 1000, 200, 600, 0.25, false, 900, 'ok', NULL),
                   ($1, $2, 'atom', 'anthropic', 'claude', 1000, 100, 200, 0.15, false, 300, 'ok', NULL),
                   ($1, $2, 'masterplan', 'openai-compatible', 'smollm2', 400, 50, NULL, 0.01, true, 300, 'ok', NULL),
                   ($1, $2, 'discovery', 'openai-compatible', 'smollm2', NULL, NULL, NULL, NULL, false, 30, 'error', 'HTTP 500'),
                   ($3, NULL, 'chat', 'openai', 'gpt-x', 5000, 5000, 0, 9, false, 30, 'ok', NULL)
            """, [user.id, planID, other.id])

        let usage = try stack.call("GET", "/api/v1/usage", token: user.token)
        #expect(usage.status == 200, "\(usage.text)")
        #expect(try schemaErrors(usage.json, "Usage") == [])
        #expect(usage["calls"]?.intValue == 4)
        #expect(usage["input_tokens"]?.intValue == 2400)
        #expect(usage["output_tokens"]?.intValue == 350)
        #expect(usage["cached_input_tokens"]?.intValue == 800)
        #expect(usage["cached_tokens"]?.intValue == 800)
        // 800 of the 2000 input tokens of the calls that reported both: the estimate knows nothing of the cache.
        #expect(usage["cached_input_share"]?.doubleValue == 0.4)
        #expect(abs((usage["cost_usd"]?.doubleValue ?? 0) - 0.41) < 1e-9)
        #expect(usage["estimated_calls"]?.intValue == 1)
        #expect(usage["usage_estimated"] == true)
        #expect(usage["calls_without_usage"]?.intValue == 1)
        #expect(usage["calls_without_cost"]?.intValue == 1)

        let atom = try #require(row(usage["by_purpose"], "purpose", "atom"))
        #expect(atom["calls"]?.intValue == 2)
        #expect(atom["usage_estimated"] == false && atom["estimated_calls"]?.intValue == 0)
        #expect(atom["cached_input_share"]?.doubleValue == 0.4)
        let masterplan = try #require(row(usage["by_purpose"], "purpose", "masterplan"))
        #expect(masterplan["usage_estimated"] == true && masterplan["estimated_calls"]?.intValue == 1)
        #expect(masterplan["input_tokens"]?.intValue == 400)
        #expect(masterplan["cached_input_tokens"] == .null && masterplan["cached_input_share"] == .null)
        // Nothing known is null ("unknown"), never 0 ("free").
        let discovery = try #require(row(usage["by_purpose"], "purpose", "discovery"))
        #expect(discovery["input_tokens"] == .null && discovery["output_tokens"] == .null && discovery["cost_usd"] == .null)
        #expect(discovery["calls_without_usage"]?.intValue == 1 && discovery["calls_without_cost"]?.intValue == 1)
        #expect(usage["by_purpose"]?.arrayValue?.map { $0["purpose"]?.stringValue } == ["atom", "masterplan", "discovery"])

        let small = try #require(row(usage["by_model"], "model", "smollm2"))
        #expect(small["calls"]?.intValue == 2 && small["usage_estimated"] == true && small["calls_without_usage"]?.intValue == 1)
        #expect(row(usage["by_model"], "model", "gpt-x") == nil)

        let plans = try #require(usage["by_plan"]?.arrayValue)
        #expect(plans.count == 1)
        #expect(plans.first?["plan_id"]?.stringValue == planID.uuidString.lowercased())
        #expect(plans.first?["project_name"]?.stringValue != nil)
        #expect(plans.first?["calls"]?.intValue == 4 && plans.first?["estimated_calls"]?.intValue == 1)

        // No calls since then: zeros, nothing estimated, no share.
        let none = try stack.call("GET", "/api/v1/usage?since=2999-01-01T00:00:00Z", token: user.token)
        #expect(try schemaErrors(none.json, "Usage") == [])
        #expect(none["calls"]?.intValue == 0 && none["input_tokens"]?.intValue == 0 && none["cost_usd"]?.doubleValue == 0)
        #expect(none["usage_estimated"] == false && none["cached_input_share"] == .null)
        #expect(none["by_purpose"]?.arrayValue?.isEmpty == true)
    }

    @Test func thePlansActualCostSaysWhenItIncludesAnEstimate() throws {
        let user = try stack.user("usage-plan")
        let db = try stack.database()
        let planID = try PlanFixture.insert(db, owner: user.id)
        let path = "/api/v1/masterplans/\(planID.uuidString.lowercased())"
        func insertCall(estimated: Bool) throws {
            try db.execute(
                """
                INSERT INTO llm_calls (owner_id, plan_id, purpose, provider, model, input_tokens, output_tokens, cost_usd,
                                       usage_estimated, latency_ms, status)
                VALUES ($1, $2, 'atom', 'openai-compatible', 'smollm2', 300, 40, 0.125, $3, 10, 'ok')
                """, [user.id, planID, estimated])
        }
        try insertCall(estimated: false)
        // Twice: each worker caches the tree, and the cache must see the flag change.
        for _ in 0..<2 {
            let tree = try stack.call("GET", path, token: user.token)
            #expect(tree.status == 200)
            #expect(tree["actual_cost_estimated"] == false)
            #expect(try schemaErrors(tree.json, "PlanTree") == [])
        }
        try insertCall(estimated: true)
        for _ in 0..<2 {
            let tree = try stack.call("GET", path, token: user.token)
            #expect(tree["actual_cost_estimated"] == true)
            #expect(tree["actual_cost_usd"]?.doubleValue == 0.25)
        }
        let status = try stack.call("GET", path + "/status", token: user.token)
        #expect(status["actual_cost_estimated"] == true)
        #expect(try schemaErrors(status.json, "PlanStatus") == [])
        let list = try stack.call("GET", "/api/v1/masterplans", token: user.token)
        #expect(list["items"]?.arrayValue?.first?["actual_cost_estimated"] == true)
        #expect(try schemaErrors(list.json, "PlanPage") == [])
    }
}
