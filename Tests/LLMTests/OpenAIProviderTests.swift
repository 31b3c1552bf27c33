@testable import Engine
import Foundation
import JSON
@testable import LLM
import PlanCore
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2))) struct OpenAIProviderTests {
    let request = LLMRequest(purpose: .atom, system: "You write code.", messages: [.init(role: .user, content: "Write main.py")],
                             temperature: 0.5, maxTokens: 512, key: "task-3/attempt-2")

    @Test func streamsTextWithTheUsageChunk() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream(OpenAIFixture.answer(["print(", "'hi'", ")"], usage: (120, 9, 64)),
                                    headers: [("x-request-id", "req_c8b7d5e1")]))
        let client = try LLMClient.forTest(.openai, baseURL: server.baseURL + "/v1", model: "gpt-4.1-mini", apiKey: "sk-test")
        let (pieces, outcome) = await client.collect(request)
        try await client.shutdown()
        let result = try #require(outcome.value)
        #expect(pieces == ["print(", "'hi'", ")"])
        #expect(result.text == "print('hi')")
        #expect(result.stopReason == .endTurn)
        #expect(result.model == "gpt-4.1-mini-2025-04-14")
        #expect(result.usage == LLMUsage(inputTokens: 120, outputTokens: 9, cachedInputTokens: 64))
        #expect(result.providerRequestID == "req_c8b7d5e1")
        // gpt-4.1-mini: 0.40 / 1.60 / 0.10 per million; cached tokens are part of the prompt tokens.
        let uncached: Double = (120 - 64) * 0.40
        let expected: Double = (uncached + 64 * 0.10 + 9 * 1.60) / 1_000_000
        #expect(abs(try #require(result.costUSD) - expected) < 1e-12)

        let sent = try #require(server.requests.first)
        #expect(sent.path == "/v1/chat/completions")
        #expect(sent.headers["authorization"] == "Bearer sk-test")
        #expect(sent.headers["x-masterplan-purpose"] == "atom")
        #expect(sent.headers["x-masterplan-key"] == "task-3/attempt-2")
        let body = try jsonBody(sent)
        #expect(body["stream"] == true)
        #expect(body["stream_options"] == ["include_usage": true])
        #expect(body["max_completion_tokens"] == 512) // api.openai.com's current models refuse max_tokens
        #expect(body["max_tokens"] == nil)
        #expect(body["temperature"]?.doubleValue == 0.5)
        #expect(body["messages"] == [["role": "system", "content": "You write code."], ["role": "user", "content": "Write main.py"]])
        #expect(body["response_format"] == nil)
    }

    @Test func aLocalServerWithoutKeyOrUsageGivesEstimatedTokensNotZero() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream(OpenAIFixture.llamaCppAnswer(["Hel", "lo"])))
        let diagnostics = CollectedDiagnostics()
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "smollm2", apiKey: nil,
                                           diagnostics: diagnostics)
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        let result = try #require(outcome.value)
        #expect(result.text == "Hello")
        // No usage chunk: the tokens are estimated from the text and marked so; the cached count stays unknown.
        #expect(result.usage.isEstimated)
        #expect(result.usage.outputTokens == LLMUsage.estimatedTokens(of: "Hello"))
        #expect(result.usage.inputTokens.map { $0 > 0 } == true)
        #expect(result.usage.cachedInputTokens == nil)
        #expect(result.costUSD == nil)
        #expect(result.costNote == "model smollm2 is not in the price table")
        #expect(result.usageLine.contains("cached_tokens=unknown cost_usd=unknown"))
        #expect(result.usageLine.contains("usage=estimated"))
        #expect(diagnostics.lines.contains { $0.contains("msg=\"llm cost unknown\"") && $0.contains("model=smollm2") })
        let sent = try #require(server.requests.first)
        #expect(sent.headers["authorization"] == nil)
        #expect(try jsonBody(sent)["max_tokens"] == 512)
    }

    @Test func doneWithoutFinishReasonIsACutOffStream() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        // llama.cpp's server ends an interrupted answer with [DONE] and no finish_reason (measured).
        server.enqueue(.eventStream(OpenAIFixture.llamaCppAnswer(["def main(", "):"], finish: nil)))
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "smollm2", apiKey: nil)
        let (pieces, outcome) = await client.collect(request)
        try await client.shutdown()
        let error = try #require(outcome.failure)
        #expect(pieces == ["def main(", "):"])
        #expect(error.kind == .streamCutOff)
        #expect(error.message.contains("no finish_reason"))
    }

    @Test func aConnectionLostMidStreamIsCutOff() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream(OpenAIFixture.answer(["one ", "two ", "three"]), cutAfter: 3))
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "m")
        let (pieces, outcome) = await client.collect(request)
        try await client.shutdown()
        #expect(pieces == ["one ", "two "])
        #expect(outcome.failure?.kind == .streamCutOff)
        #expect(server.requests.count == 1)
    }

    @Test func aConnectionLostBeforeAnyTextIsRetried() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream(OpenAIFixture.answer(["x"]), cutAfter: 1), .eventStream(OpenAIFixture.answer(["whole"])))
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "m")
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        #expect(outcome.value?.text == "whole")
        #expect(outcome.value?.retries == 1)
    }

    @Test func rateLimitedWithAnHTTPDateRetryAfter() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let when = formatter.string(from: Date().addingTimeInterval(25))
        server.enqueue(OpenAIFixture.error(status: 429, message: "Rate limit reached for gpt-4.1-mini", type: "requests",
                                           headers: [("retry-after", when)]),
                       .eventStream(OpenAIFixture.answer(["ok"])))
        let waits = RecordedWaits()
        let client = try LLMClient.forTest(.openai, baseURL: server.baseURL + "/v1", model: "gpt-4.1-mini", waits: waits)
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        #expect(outcome.value?.text == "ok")
        #expect(waits.all.count == 1)
        #expect(waits.all[0] >= .seconds(10) && waits.all[0] <= .seconds(26))
    }

    @Test func aRetryAfterBeyondTheLimitFailsAtOnce() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(OpenAIFixture.error(status: 429, message: "You exceeded your current quota", type: "insufficient_quota",
                                           headers: [("retry-after", "86400")]))
        let waits = RecordedWaits()
        let client = try LLMClient.forTest(.openai, baseURL: server.baseURL + "/v1", model: "gpt-4.1-mini", waits: waits)
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        let error = try #require(outcome.failure)
        #expect(error.kind == .quotaExhausted)
        #expect(error.providerMessage == "You exceeded your current quota")
        #expect(waits.all.isEmpty)
    }

    @Test func serverErrorThenSuccess() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(OpenAIFixture.error(status: 500, message: "The server had an error while processing your request.", type: "server_error"),
                       OpenAIFixture.error(status: 503, message: "Service Unavailable", type: "server_error"),
                       .eventStream(OpenAIFixture.answer(["after two failures"])))
        let waits = RecordedWaits()
        let client = try LLMClient.forTest(.openai, baseURL: server.baseURL + "/v1", model: "gpt-4.1-mini", waits: waits)
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        #expect(outcome.value?.text == "after two failures")
        #expect(outcome.value?.retries == 2)
        #expect(waits.all.count == 2)
    }

    @Test func retriesStopAtTheLimit() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        for _ in 0..<5 { server.enqueue(OpenAIFixture.error(status: 502, message: "Bad gateway", type: "server_error")) }
        let waits = RecordedWaits()
        let client = try LLMClient.forTest(.openai, baseURL: server.baseURL + "/v1", model: "gpt-4.1-mini", waits: waits)
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        let error = try #require(outcome.failure)
        #expect(error.kind == .http(status: 502))
        #expect(error.retries == 4)
        #expect(server.requests.count == 5)
        #expect(waits.all == waits.all.sorted()) // exponential, capped
    }

    @Test func aBadRequestFailsAtOnceWithTheProvidersMessage() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(OpenAIFixture.error(status: 400, message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130212 tokens.",
                                           param: "messages"))
        let waits = RecordedWaits()
        let client = try LLMClient.forTest(.openai, baseURL: server.baseURL + "/v1", model: "gpt-4.1-mini", waits: waits)
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        let error = try #require(outcome.failure)
        #expect(error.kind == .contextWindow)
        #expect(error.providerMessage?.hasPrefix("This model's maximum context length is 128000 tokens.") == true)
        #expect(server.requests.count == 1)
        #expect(waits.all.isEmpty)
    }

    @Test func aMalformedChunkIsAnError() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream([OpenAIFixture.chunk(#"{"role":"assistant","content":""}"#), "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}\n\n",
                                     OpenAIFixture.done]))
        let client = try LLMClient.forTest(.openai, baseURL: server.baseURL + "/v1", model: "gpt-4.1-mini")
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        let error = try #require(outcome.failure)
        #expect(error.kind == .malformedStream)
        #expect(error.message.contains("not JSON"))
    }

    @Test func aFiveMegabyteAnswerArrivesWhole() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        let piece = String(repeating: "abcdefghijklmnop", count: 256) // 4 KiB
        server.enqueue(.eventStream(OpenAIFixture.answer(Array(repeating: piece, count: 1280), usage: (50, 1_250_000, 0))))
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "m")
        let (pieces, outcome) = await client.collect(request)
        try await client.shutdown()
        let result = try #require(outcome.value)
        #expect(pieces.count == 1280)
        #expect(result.text.utf8.count == 5 * 1024 * 1024)
        #expect(result.usage.outputTokens == 1_250_000)
    }

    @Test func structuredOutputWithOpenAIsJSONSchemaForm() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        let answer = #"{"file":"main.py","content":"print('hi')\n","notes":""}"#
        server.enqueue(.eventStream(OpenAIFixture.answer([String(answer.prefix(20)), String(answer.dropFirst(20))])))
        let client = try LLMClient.forTest(.openai, baseURL: server.baseURL + "/v1", model: "gpt-4.1-mini")
        var structured = request
        structured.jsonSchema = AnswerSchemas.atomFile
        let (_, outcome) = await client.collect(structured)
        try await client.shutdown()
        let result = try #require(outcome.value)
        #expect(result.structuredMode == .jsonSchema)
        #expect(try AnswerParser.atomFile(result.text) == AtomFileAnswer(file: "main.py", content: "print('hi')\n", notes: ""))
        let body = try jsonBody(try #require(server.requests.first))
        // api.openai.com gets the schema in its strict subset (the bounds it refuses described instead).
        #expect(body["response_format"] == ["type": "json_schema",
                                             "json_schema": ["name": "atom", "schema": WireSchema.reduced(AnswerSchemas.atomFile, for: .openAIStrict),
                                                             "strict": true]])
    }

    @Test func llamaCppRefusingJSONSchemaGetsItsOwnFormAndIsRemembered() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        // llama-cpp-python answers OpenAI's json_schema form with HTTP 500 (measured).
        server.enqueue(.body(status: 500, reason: "Internal Server Error", #"{"error":{"message":"'json_schema'","type":"internal_server_error"}}"#),
                       .eventStream(OpenAIFixture.llamaCppAnswer([#"{"reply":"#, #""grammar says hi","plan_request":null}"#])))
        let waits = RecordedWaits()
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "smollm2", apiKey: nil, waits: waits)
        var structured = request
        structured.purpose = .chat
        structured.jsonSchema = AnswerSchemas.chatReply
        let (_, outcome) = await client.collect(structured)
        let result = try #require(outcome.value)
        #expect(try AnswerParser.chatReply(result.text) == ChatReplyAnswer(reply: "grammar says hi", planRequest: nil))
        #expect(result.structuredMode == .jsonObjectWithSchema)
        #expect(waits.all.isEmpty) // a refused form is not a provider failure: no backoff
        let second = try jsonBody(server.requests[1])
        #expect(second["response_format"] == ["type": "json_object", "schema": AnswerSchemas.chatReply])

        server.enqueue(.eventStream(OpenAIFixture.llamaCppAnswer([#"{"reply":"again","plan_request":null}"#])))
        _ = await client.collect(structured)
        try await client.shutdown()
        #expect(server.requests.count == 3)
        #expect(try jsonBody(server.requests[2])["response_format"] == ["type": "json_object", "schema": AnswerSchemas.chatReply])
    }

    @Test func everyStructuredFormRefusedEndsWithTheSchemaInThePrompt() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(OpenAIFixture.error(status: 400, message: "response_format json_schema is not supported"),
                       OpenAIFixture.error(status: 400, message: "response_format.schema is not permitted"),
                       OpenAIFixture.error(status: 400, message: "response_format json_object is not supported by this model"),
                       .eventStream(OpenAIFixture.answer([#"{"reply":"plain","plan_request":null}"#])))
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "m")
        var structured = request
        structured.jsonSchema = AnswerSchemas.chatReply
        let (_, outcome) = await client.collect(structured)
        try await client.shutdown()
        #expect(outcome.value?.structuredMode == .promptOnly)
        let bodies = try server.requests.map(jsonBody)
        #expect(bodies[2]["response_format"] == ["type": "json_object"])
        #expect(bodies[3]["response_format"] == nil)
        let system = try #require(bodies[3]["messages"]?[0]?["content"]?.stringValue)
        #expect(system.hasPrefix("You write code."))
        #expect(system.contains("\"plan_request\""))
    }

    @Test func finishReasonLengthWithASchemaIsTruncatedJSON() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream(OpenAIFixture.answer([#"{"file":"a.py","content":"import o"#], finish: "length", usage: (30, 512, 0))))
        let client = try LLMClient.forTest(.openai, baseURL: server.baseURL + "/v1", model: "gpt-4.1-mini")
        var structured = request
        structured.jsonSchema = AnswerSchemas.atomFile
        let (_, outcome) = await client.collect(structured)
        try await client.shutdown()
        #expect(outcome.failure?.kind == .truncatedJSON)
    }

    @Test func finishReasonLengthWithoutASchemaIsAnIncompleteAnswerMarkedAsSuch() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream(OpenAIFixture.answer(["a long sto"], finish: "length", usage: (30, 512, 0))))
        let client = try LLMClient.forTest(.openai, baseURL: server.baseURL + "/v1", model: "gpt-4.1-mini")
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        #expect(outcome.value?.stopReason == .maxTokens)
    }

    @Test func aModelRefusingTemperatureAndMaxTokensIsAskedAgainWithoutThem() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(OpenAIFixture.error(status: 400, message: "Unsupported value: 'temperature' does not support 0.5 with this model. Only the default (1) value is supported.",
                                           type: "invalid_request_error", param: "temperature"),
                       OpenAIFixture.error(status: 400, message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                                           param: "max_tokens"),
                       .eventStream(OpenAIFixture.answer(["reasoned"])))
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "o4-mini")
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        #expect(outcome.value?.text == "reasoned")
        let last = try jsonBody(server.requests[2])
        #expect(last["temperature"] == nil)
        #expect(last["max_tokens"] == nil)
        #expect(last["max_completion_tokens"] == 512)
    }

    @Test func aServerIgnoringStreamIsReadAsOneAnswer() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.body(status: 200, #"{"id":"chatcmpl-1","object":"chat.completion","created":1764000000,"model":"smollm2","choices":[{"index":0,"message":{"role":"assistant","content":"whole at once"},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":31,"completion_tokens":4,"total_tokens":35}}"#))
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "smollm2")
        let (pieces, outcome) = await client.collect(request)
        try await client.shutdown()
        #expect(pieces == ["whole at once"])
        #expect(outcome.value?.usage == LLMUsage(inputTokens: 31, outputTokens: 4))
    }

    @Test func anUnreachableServerIsAConnectionErrorAfterRetries() async throws {
        let refusing = try LoopbackListener.refusing()
        defer { withExtendedLifetime(refusing) {} }
        let port = refusing.port
        let waits = RecordedWaits()
        let client = try LLMClient.forTest(.openAICompatible, baseURL: "http://127.0.0.1:\(port)/v1", model: "m", waits: waits)
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        let error = try #require(outcome.failure)
        #expect(error.kind == .connection)
        #expect(error.retries == 4)
        #expect(waits.all.count == 4)
    }

    @Test func cancellingTheCallerCancelsTheCall() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(OpenAIFixture.error(status: 503, message: "busy", type: "server_error"))
        let (waiting, signal) = AsyncStream<Void>.makeStream()
        // The client waits to retry; the test cancels it during that wait.
        let policy = RetryPolicy(maxRetries: 5, initialDelay: .seconds(30), maxDelay: .seconds(30)) { duration in
            signal.yield()
            try await Task.sleep(for: duration)
        }
        let configuration = LLMConfiguration(provider: .openAICompatible, model: "m", baseURL: server.baseURL + "/v1", retry: policy)
        let client = try LLMClient(configuration: configuration, diagnostics: .silent)
        let call = Task { () async -> LLMError? in
            do throws(LLMError) {
                _ = try await client.complete(request)
                return nil
            } catch {
                return error
            }
        }
        for await _ in waiting { break }
        call.cancel()
        let error = try #require(await call.value as LLMError?)
        try await client.shutdown()
        #expect(error.kind == .cancelled)
        #expect(error.callStatus == .cancelled)
        #expect(server.requests.count == 1)
    }
}
