import Foundation
@testable import LLM
import Postgres
import Store
import TestSupport
import Testing

/// Every call ends as one `llm_calls` row with the provider's token counts and the price table's cost.
@Suite(.timeLimit(.minutes(3))) struct LLMCallLedgerTests {
    static let owner = UUID(uuidString: "10000000-0000-4000-8000-000000000001")!
    static let plan = UUID(uuidString: "40000000-0000-4000-8000-000000000001")!

    func database() async throws -> (conninfo: String, connection: Connection) {
        let conninfo = try await offPool { try TestDatabase.migrated() }
        let connection = try Connection(conninfo)
        try connection.execute("INSERT INTO users (id, email, password_hash, role) VALUES ($1, 'ann@example.org', '$argon2id$x', 'admin')",
                               [Self.owner])
        try connection.execute("""
            INSERT INTO masterplans (id, owner_id, request, project_name, summary, tech_stack, status, budget_usd, total_tasks)
            VALUES ($1, $2, 'create a FastAPI app with JWT auth', 'fastapi-jwt', 'A FastAPI service', '{}', 'draft', 5, 2)
            """, [Self.plan, Self.owner])
        return (conninfo, connection)
    }

    @Test func rowsCarryTokensCostStatusAndAttribution() async throws {
        let (conninfo, connection) = try await database()
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream(AnthropicFixture.textAnswer(["ok"], input: 1000, output: 300, cacheRead: 2000, cacheCreation: 500),
                                    headers: [("request-id", "req_ledger_1")]),
                       AnthropicFixture.error(status: 400, type: "invalid_request_error", message: "max_tokens: must be at least 1"))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, model: "claude-sonnet-4-5",
                                           callLog: PostgresLLMCallLog(conninfo: conninfo))
        let attribution = LLMAttribution(ownerID: Self.owner, planID: Self.plan)
        let request = LLMRequest(purpose: .masterplan, system: "plan it", messages: [.init(role: .user, content: "r")], key: "plan-v1")
        let result = try await client.complete(request, attribution: attribution)
        await #expect(throws: LLMError.self) { try await client.complete(request, attribution: attribution) }
        try await client.shutdown()

        let rows = try LLMCallStore.calls(planID: Self.plan, on: connection)
        #expect(rows.count == 2)
        let ok = rows[0]
        #expect(ok.status == .ok)
        #expect(ok.error == nil)
        #expect(ok.ownerID == Self.owner)
        #expect(ok.purpose == "masterplan")
        #expect(ok.provider == "anthropic")
        #expect(ok.model == "claude-sonnet-4-5-20250929")
        #expect(ok.inputTokens == 3500)   // 1000 uncached + 2000 read from the cache + 500 written to it
        #expect(ok.outputTokens == 300)
        #expect(ok.cachedTokens == 2000)
        // 1000 × 3 + 2000 × 0.30 + 500 × 3.75 + 300 × 15 dollars per million = 0.009975
        #expect(ok.costUSD == 0.009975)
        #expect(abs(try #require(result.costUSD) - 0.009975) < 1e-12)
        #expect(ok.latencyMilliseconds == result.latencyMilliseconds)
        #expect(ok.providerRequestID == "req_ledger_1")

        let failed = rows[1]
        #expect(failed.status == .error)
        #expect(failed.costUSD == nil)  // the provider reported no usage for the refused request: unknown, not 0
        #expect(failed.error?.contains("max_tokens: must be at least 1") == true)

        // The 0003 trigger adds the cost to the plan.
        let actual = try connection.query("SELECT actual_cost_usd::text FROM masterplans WHERE id = $1", [Self.plan]).first!
        #expect(try actual.decode(Double.self, 0) == 0.009975)
    }

    @Test func unknownCountsAndPricesAreSaidNotSilentlyZero() async throws {
        let (conninfo, connection) = try await database()
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream(OpenAIFixture.llamaCppAnswer(["local answer"])))
        let diagnostics = CollectedDiagnostics()
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "smollm2", apiKey: nil,
                                           diagnostics: diagnostics, callLog: PostgresLLMCallLog(conninfo: conninfo))
        let result = try await client.complete(LLMRequest(purpose: .chat, system: "", messages: [.init(role: .user, content: "hi")]),
                                               attribution: LLMAttribution(ownerID: Self.owner))
        try await client.shutdown()
        #expect(result.costUSD == nil)
        let row = try #require(try LLMCallStore.recent(limit: 1, on: connection).first)
        #expect(row.status == .ok)
        #expect(row.model == "smollm2")
        #expect(row.provider == "openai-compatible")
        // Tokens the server did not report are estimated from the text and marked so (0017); what
        // cannot be estimated stays unknown (NULL, 0007), never a zero that reads as "free".
        #expect(row.usageEstimated)
        #expect(row.inputTokens == LLMUsage.estimatedTokens(of: "hi"))
        #expect(row.outputTokens == LLMUsage.estimatedTokens(of: "local answer"))
        #expect(row.cachedTokens == nil && row.costUSD == nil)
        #expect(diagnostics.lines.contains { line in
            line.contains("msg=\"llm_calls row has no cost: the model is not in the price table\"") && line.contains(row.id.uuidString.lowercased())
        })
        #expect(diagnostics.lines.contains { $0.contains("msg=\"llm cost unknown\"") })
    }

    @Test func timeoutsAndCancellationsHaveTheirOwnStatus() async throws {
        let (_, connection) = try await database()
        for status in [LLMCallRecord.Status.timeout, .cancelled] {
            try LLMCallStore.insert(LLMCallRecord(planID: Self.plan, purpose: "atom", provider: "openai", model: "gpt-4.1-mini",
                                                  inputTokens: 10, outputTokens: nil, cachedTokens: nil, costUSD: nil,
                                                  latencyMilliseconds: 1500, status: status, error: "the call's time limit passed"),
                                    on: connection)
        }
        let statuses = try LLMCallStore.calls(planID: Self.plan, on: connection).map(\.status)
        #expect(statuses == [.timeout, .cancelled])
    }

    @Test func estimatedUsageIsStoredAndMarksThePlansCost() async throws {
        let (_, connection) = try await database()
        let reported = try LLMCallStore.insert(LLMCallRecord(ownerID: Self.owner, planID: Self.plan, purpose: "atom", provider: "openai",
                                                             model: "gpt-4.1-mini", inputTokens: 100, outputTokens: 20, cachedTokens: 0,
                                                             costUSD: 0.5, latencyMilliseconds: 10, status: .ok), on: connection)
        let flag = { try connection.query("SELECT actual_cost_estimated, actual_cost_usd::text FROM masterplans WHERE id = $1",
                                          [Self.plan]).first! }
        #expect(try flag().decode(Bool.self, 0) == false)
        let estimated = try LLMCallStore.insert(LLMCallRecord(ownerID: Self.owner, planID: Self.plan, purpose: "atom",
                                                              provider: "openai-compatible", model: "smollm2", inputTokens: 812,
                                                              outputTokens: 95, cachedTokens: nil, costUSD: 0.25, usageEstimated: true,
                                                              latencyMilliseconds: 10, status: .ok), on: connection)
        #expect(estimated.unknownColumns == ["cached_tokens"])
        let rows = try LLMCallStore.calls(planID: Self.plan, on: connection)
        #expect(rows.map(\.id) == [reported.id, estimated.id])
        #expect(rows.map(\.usageEstimated) == [false, true])
        #expect(rows[1].inputTokens == 812 && rows[1].outputTokens == 95)
        // The 0017 trigger: the plan's cost now includes an estimate, and says so.
        #expect(try flag().decode(Bool.self, 0) == true)
        #expect(try flag().decode(Double.self, 1) == 0.75)
    }
}
