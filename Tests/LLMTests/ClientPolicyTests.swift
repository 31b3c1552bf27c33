import Engine
import Foundation
import JSON
@testable import LLM
@testable import Store
import Synchronization
import Testing
import TestSupport

/// The client's decisions about failures, usage and structured answers, against scripted servers that
/// answer as real providers and gateways do.
@Suite(.dedicatedThreads) struct ClientPolicyTests {
    let request = LLMRequest(purpose: .chat, system: "You are terse.", messages: [.init(role: .user, content: "Say hi")], key: "hi")
    let structured = LLMRequest(purpose: .atom, system: "Write the file.", messages: [.init(role: .user, content: "app.py")],
                                jsonSchema: AnswerSchemas.atomFile, key: "task-1/app.py")

    /// Rows the client logs, in memory.
    final class Rows: LLMCallLog, Sendable {
        let rows = Mutex<[LLMCallRecord]>([])
        func record(_ call: LLMCallRecord) async throws -> LLMCallReceipt {
            rows.withLock { $0.append(call) }
            return LLMCallReceipt(id: UUID(), unknownColumns: [])
        }
        var all: [LLMCallRecord] { rows.withLock { $0 } }
    }

    // MARK: - Retries

    @Test func theDefaultPolicyReportsARefusedConnectionAfterTwoShortRetries() async throws {
        let refusing = try LoopbackListener.refusing()
        defer { withExtendedLifetime(refusing) {} }
        let port = refusing.port
        let waits = Mutex<[Duration]>([])
        let configuration = LLMConfiguration(provider: .openAICompatible, model: "m", baseURL: "http://127.0.0.1:\(port)/v1",
                                             retry: RetryPolicy(sleep: { duration in waits.withLock { $0.append(duration) } }))
        let client = try LLMClient(configuration: configuration, diagnostics: .silent)
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        let error = try #require(outcome.failure)
        #expect(error.kind == .connection)
        #expect(error.retries == 2)
        // 0.5 s then 1 s, less jitter: the whole wait before the error is reported is at most 1.5 s.
        let total = waits.withLock { $0 }.reduce(Duration.zero, +)
        #expect(waits.withLock { $0.count } == 2 && total <= .milliseconds(1500), "\(waits.withLock { $0 })")
    }

    @Test func xShouldRetryFalseStopsARetryableStatusAndTrueRetriesAnother() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(OpenAIFixture.error(status: 503, message: "overloaded", type: "server_error", headers: [("x-should-retry", "false")]))
        server.enqueue(OpenAIFixture.error(status: 400, message: "try again", headers: [("x-should-retry", "true")]))
        server.enqueue(.eventStream(OpenAIFixture.answer(["hi"])))
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "m")
        let (_, first) = await client.collect(request)
        #expect(first.failure?.kind == .http(status: 503))
        #expect(first.failure?.retries == 0)
        let (_, second) = await client.collect(request)
        try await client.shutdown()
        #expect(second.value?.text == "hi")
        #expect(second.value?.retries == 1)
        #expect(server.requests.count == 3)
    }

    @Test(arguments: [
        // OpenAI's answer when the account's credit is used up (it even carries retry-after).
        OpenAIFixture.error(status: 429, message: "You exceeded your current quota, please check your plan and billing details.",
                            type: "insufficient_quota", headers: [("retry-after", "1")]),
        // A gateway's spend cap: a 429 with no rate-limit hint at all.
        OpenAIFixture.error(status: 429, message: "Budget has been exceeded! Current cost: 10.2, Max budget: 10.0", type: "budget_exceeded"),
        // A 429 with nothing that says "rate limit": no retry-after, no x-ratelimit-*, no such type.
        OpenAIFixture.error(status: 429, message: "Request refused for this key", type: "invalid_request_error"),
    ])
    func aSpentQuotaIsNotRetried(_ answer: ScriptedHTTPServer.Response) async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(answer)
        server.enqueue(.eventStream(OpenAIFixture.answer(["late"])))
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "m")
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        let error = try #require(outcome.failure)
        #expect(error.kind == .quotaExhausted)
        #expect(!error.isTransient)
        #expect(error.retries == 0)
        #expect(server.requests.count == 1)
        #expect(error.description.contains("quota or spend limit"))
    }

    @Test func aRateLimitWithItsHeadersOrItsTypeIsRetried() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(OpenAIFixture.error(status: 429, message: "Limit reached for requests", type: "requests",
                                           headers: [("x-ratelimit-limit-requests", "60"), ("x-ratelimit-reset-requests", "1s")]))
        server.enqueue(OpenAIFixture.error(status: 429, message: "Too many requests", type: "rate_limit_exceeded"))
        server.enqueue(.eventStream(OpenAIFixture.answer(["ok"])))
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "m")
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        #expect(outcome.value?.text == "ok")
        #expect(outcome.value?.retries == 2)
    }

    @Test func aRequestBeyondTheContextWindowIsNotRetriedAndSaysSo() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(OpenAIFixture.error(status: 400, message: "the request exceeds the available context size, try increasing it",
                                           type: "exceed_context_size_error"))
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "m")
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        let error = try #require(outcome.failure)
        #expect(error.kind == .contextWindow)
        #expect(error.retries == 0)
        #expect(error.providerMessageLine == "the request exceeds the available context size, try increasing it")
    }

    @Test func theProvidersMessageIsQuotedByItsFirstLine() {
        let error = LLMError(kind: .http(status: 500), message: "HTTP 500", providerMessage: "upstream failed\nTraceback (most recent call last):\n  …",
                             provider: .openAICompatible, model: "m")
        #expect(error.providerMessageLine == "upstream failed")
        #expect(error.description == "openai-compatible m: HTTP 500: upstream failed")
    }

    // MARK: - Usage

    @Test func aStreamWithoutUsageIsEstimatedFromTheTextAndMarked() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream(OpenAIFixture.llamaCppAnswer(["Hello ", "there, ", "friend."])))
        let rows = Rows()
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "gpt-4.1-mini", callLog: rows)
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        let result = try #require(outcome.value)
        let prompt = request.system + request.messages[0].content
        #expect(result.usage.isEstimated)
        #expect(result.usage.inputTokens == LLMUsage.estimatedTokens(of: prompt))
        #expect(result.usage.outputTokens == LLMUsage.estimatedTokens(of: "Hello there, friend."))
        #expect(result.costUSD.map { $0 > 0 } == true, "an estimated usage has an estimated cost, never 0")
        #expect(result.usageLine.contains("usage=estimated"))
        let row = try #require(rows.all.first)
        #expect(row.usageEstimated)
        #expect(row.inputTokens == result.usage.inputTokens)
        #expect(row.costUSD == result.costUSD)
    }

    @Test func reportedUsageIsNotMarkedEstimated() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream(OpenAIFixture.answer(["hi"], usage: (12, 7, 0))))
        let rows = Rows()
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "gpt-4.1-mini", callLog: rows)
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        #expect(outcome.value?.usage == LLMUsage(inputTokens: 12, outputTokens: 7, cachedInputTokens: 0))
        #expect(rows.all.first?.usageEstimated == false)
    }

    // MARK: - Structured answers

    @Test(arguments: [
        "{",                                                   // cut after one character
        #"{"file": "app.py", "content": "print(1)\n""#,        // cut before its end
        #"{"file": "app.py", "content": "print(1)\n"}"#,       // a required member missing
        #"{"file": "app.py", "content": 7, "notes": ""}"#,     // a member of the wrong type
        "Sure! Here is the file you asked for.",              // no document at all
    ])
    func aStructuredAnswerThatIsNotTheWholeValidDocumentIsNeverASuccess(_ answer: String) async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream(OpenAIFixture.answer([answer])))
        let rows = Rows()
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "gpt-4.1-mini", callLog: rows)
        let (_, outcome) = await client.collect(structured)
        try await client.shutdown()
        let error = try #require(outcome.failure)
        #expect(error.kind == .invalidAnswer)
        #expect(!error.isTransient)
        #expect(!error.violations.isEmpty)
        #expect(error.answer?.text == answer, "the answer travels with the error, for a repair")
        #expect(error.answer?.usage == LLMUsage(inputTokens: 12, outputTokens: 7, cachedInputTokens: 0))
        let row = try #require(rows.all.first)
        #expect(row.status == .error)
        #expect(row.outputTokens == 7, "the tokens of an invalid answer were paid for and are logged")
    }

    @Test func aValidStructuredAnswerSucceeds() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream(OpenAIFixture.answer([#"{"file": "app.py", "content": "print(1)\n", "notes": ""}"#])))
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "gpt-4.1-mini")
        let (_, outcome) = await client.collect(structured)
        try await client.shutdown()
        #expect(try AnswerParser.atomFile(try #require(outcome.value).text).content == "print(1)\n")
    }

    // MARK: - What the client learns

    @Test func aRefusedFormIsRememberedEvenWhenTheCallThenFails() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        // The strict json_schema form is refused by name; the next form then fails for another reason.
        server.enqueue(OpenAIFixture.error(status: 400, message: "response_format json_schema is not supported by this server",
                                           param: "response_format"))
        server.enqueue(OpenAIFixture.error(status: 401, message: "invalid api key", type: "authentication_error"))
        server.enqueue(.eventStream(OpenAIFixture.answer([#"{"file": "app.py", "content": "x = 1\n", "notes": ""}"#])))
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "gpt-4.1-mini")
        let (_, first) = await client.collect(structured)
        #expect(first.failure?.kind == .http(status: 401))
        let (_, second) = await client.collect(structured)
        try await client.shutdown()
        #expect(second.value != nil)
        let bodies = try server.requests.map { try JSONValue.parse($0.body) }
        #expect(bodies[0]["response_format"]?["type"] == "json_schema")
        #expect(bodies[1]["response_format"]?["type"] != "json_schema")
        #expect(bodies[2]["response_format"] == bodies[1]["response_format"], "the second call starts where the first stepped down to")
        #expect(second.value?.structuredMode == StructuredOutputMode(rawValue: bodies[1]["response_format"]?["type"] == "json_object"
                                                                     ? (bodies[1]["response_format"]?["schema"] != nil ? "json_object_schema" : "json_object")
                                                                     : "prompt_only"))
    }
}
