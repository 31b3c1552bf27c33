import Foundation
import JSON
import LLM
import Postgres
import Store
import Testing
import TestSupport

/// `UsageQueries` (`GET /usage`) on the real database: estimated, reported and unknown usage summed apart.
@Suite(.dedicatedThreads) struct UsageQueriesTests {
    let connection: Connection
    let owner = UUID()

    init() throws {
        connection = try Connection(try TestDatabase.migrated())
        try connection.execute("INSERT INTO users (id, email, password_hash, role) VALUES ($1, $2, '$argon2id$x', 'member')",
                               [owner, "usage-\(owner.uuidString.prefix(8).lowercased())@example.org"])
    }

    func insert(_ purpose: String, input: Int?, output: Int?, cached: Int?, cost: Double?, estimated: Bool = false,
                status: LLMCallRecord.Status = .ok) throws {
        try LLMCallStore.insert(LLMCallRecord(ownerID: owner, purpose: purpose, provider: "openai-compatible", model: "local",
                                              inputTokens: input, outputTokens: output, cachedTokens: cached, costUSD: cost,
                                              usageEstimated: estimated, latencyMilliseconds: 5, status: status,
                                              error: status == .ok ? nil : "failed"), on: connection)
    }

    func purpose(_ usage: JSONValue, _ name: String) -> JSONValue? {
        usage["by_purpose"]?.arrayValue?.first { $0["purpose"]?.stringValue == name }
    }

    @Test func estimatedRowsAreSummedAndSaidUnknownOnesCountedApart() throws {
        try insert("atom", input: 1000, output: 100, cached: 250, cost: 0.5)
        try insert("atom", input: 600, output: 60, cached: nil, cost: 0.25, estimated: true)
        // Input known, output not (a call cut off): its output is unknown, so the call is counted as without usage.
        try insert("atom", input: 400, output: nil, cached: 100, cost: nil, status: .timeout)
        try insert("chat", input: nil, output: nil, cached: nil, cost: nil, status: .error)

        let usage = try UsageQueries(connection).usage(ownerID: owner, since: nil)
        #expect(usage["calls"]?.intValue == 4)
        #expect(usage["input_tokens"]?.intValue == 2000)
        #expect(usage["output_tokens"]?.intValue == 160)
        #expect(usage["cached_input_tokens"]?.intValue == 350)
        #expect(usage["cached_input_share"]?.doubleValue == 0.25)  // (250 + 100) / (1000 + 400)
        #expect(usage["cost_usd"]?.doubleValue == 0.75)
        #expect(usage["estimated_calls"]?.intValue == 1)
        #expect(usage["usage_estimated"] == true)
        #expect(usage["calls_without_usage"]?.intValue == 2)
        #expect(usage["calls_without_cost"]?.intValue == 2)

        let atom = try #require(purpose(usage, "atom"))
        #expect(atom["estimated_calls"]?.intValue == 1 && atom["usage_estimated"] == true)
        let chat = try #require(purpose(usage, "chat"))
        #expect(chat["usage_estimated"] == false)
        #expect(chat["input_tokens"] == .null && chat["cost_usd"] == .null && chat["cached_input_share"] == .null)
    }

    @Test func aCachedCountAboveTheInputCountIsAShareOfOne() throws {
        try insert("atom", input: 100, output: 10, cached: 300, cost: 0.01)
        let usage = try UsageQueries(connection).usage(ownerID: owner, since: nil)
        #expect(usage["cached_input_share"]?.doubleValue == 1)
    }

    @Test func onlyTheOwnersCallsSinceTheGivenTimeCount() throws {
        try insert("atom", input: 10, output: 1, cached: 0, cost: 0.01, estimated: true)
        try connection.execute("UPDATE llm_calls SET created_at = now() - interval '2 days' WHERE owner_id = $1", [owner])
        try insert("atom", input: 20, output: 2, cached: 0, cost: 0.02)
        let recent = try UsageQueries(connection).usage(ownerID: owner, since: Date().addingTimeInterval(-86_400))
        #expect(recent["calls"]?.intValue == 1)
        #expect(recent["usage_estimated"] == false)
        #expect(recent["cached_input_share"]?.doubleValue == 0)
        let everyone = try UsageQueries(connection).usage(ownerID: UUID(), since: nil)
        #expect(everyone["calls"]?.intValue == 0 && everyone["input_tokens"]?.intValue == 0)
        #expect(everyone["estimated_calls"]?.intValue == 0 && everyone["calls_without_usage"]?.intValue == 0)
    }
}
