import Engine
import Foundation
import JSON
@testable import LLM
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2))) struct AnthropicProviderTests {
    let request = LLMRequest(purpose: .chat, system: "You are terse.", messages: [.init(role: .user, content: "Say hello")],
                             temperature: 0.3, maxTokens: 256, key: "greeting")

    @Test func streamsTextAndReportsUsage() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream(AnthropicFixture.textAnswer(["Hello", ", world", "!"], input: 25, output: 15,
                                                                  cacheRead: 1000, cacheCreation: 200),
                                    headers: [("request-id", "req_018EeWyXxfu5pfWkrYcMdjWG")]))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL)
        let (pieces, outcome) = await client.collect(request)
        try await client.shutdown()
        let result = try #require(outcome.value)
        #expect(pieces == ["Hello", ", world", "!"])
        #expect(result.text == "Hello, world!")
        #expect(result.stopReason == .endTurn)
        #expect(result.model == "claude-sonnet-4-5-20250929")
        #expect(result.provider == .anthropic)
        #expect(result.providerRequestID == "req_018EeWyXxfu5pfWkrYcMdjWG")
        #expect(result.usage == LLMUsage(inputTokens: 1225, outputTokens: 15, cachedInputTokens: 1000, cacheWriteInputTokens: 200))
        // claude-sonnet-4-5: 3 / 15 / 0.30 / 3.75 per million.
        let expected = (25 * 3.0 + 1000 * 0.30 + 200 * 3.75 + 15 * 15.0) / 1_000_000
        #expect(abs(try #require(result.costUSD) - expected) < 1e-12)

        let sent = try #require(server.requests.first)
        #expect(sent.method == "POST")
        #expect(sent.path == "/v1/messages")
        #expect(sent.headers["x-api-key"] == "test-key")
        #expect(sent.headers["anthropic-version"] == "2023-06-01")
        #expect(sent.headers["content-type"] == "application/json")
        #expect(sent.headers["authorization"] == nil)
        let body = try jsonBody(sent)
        #expect(body["model"] == "claude-sonnet-4-5")
        #expect(body["stream"] == true)
        #expect(body["max_tokens"] == 256)
        #expect(body["temperature"]?.doubleValue == 0.3)
        #expect(body["system"] == "You are terse.") // far below any minimum cacheable prompt: a plain string
        #expect(body["messages"] == [["role": "user", "content": "Say hello"]])
        #expect(body["tools"] == nil)
    }

    @Test func structuredOutputUsesOneForcedStrictToolForModelsWithoutTheOutputFormat() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        let schema: JSONValue = ["type": "object", "properties": ["reply": ["type": "string"]], "required": ["reply"],
                                 "additionalProperties": false]
        server.enqueue(.eventStream([AnthropicFixture.messageStart()]
            + AnthropicFixture.toolBlock(name: "answer_chat", jsonPieces: ["{\"rep", "ly\": \"hi", " there\"}"])
            + AnthropicFixture.messageEnd(stopReason: "tool_use", output: 12)))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, model: "claude-sonnet-4-0")
        var structured = request
        structured.jsonSchema = schema
        let (pieces, outcome) = await client.collect(structured)
        try await client.shutdown()
        let result = try #require(outcome.value)
        #expect(pieces.joined() == "{\"reply\": \"hi there\"}")
        #expect(try JSONValue.parse(result.text) == ["reply": "hi there"])
        #expect(result.stopReason == .toolUse)
        #expect(result.structuredMode == .anthropicStrictTool)
        let body = try jsonBody(try #require(server.requests.first))
        #expect(body["tools"]?[0]?["name"] == "answer_chat")
        #expect(body["tools"]?[0]?["strict"] == true)
        #expect(body["tools"]?[0]?["input_schema"] == schema)
        #expect(body["output_config"] == nil)
        #expect(body["tool_choice"] == ["type": "tool", "name": "answer_chat"])
    }

    @Test func aModelRefusingForcedToolsGetsTheSchemaInThePromptAndNoTemperature() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(
            AnthropicFixture.error(status: 400, type: "invalid_request_error",
                                   message: "temperature: this model does not support sampling parameters"),
            AnthropicFixture.error(status: 400, type: "invalid_request_error",
                                   message: "tool_choice: forced tool use is not supported with this model"),
            .eventStream(AnthropicFixture.textAnswer(["{\"reply\":", "\"ok\",\"plan_request\":null}"])))
        let diagnostics = CollectedDiagnostics()
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, model: "claude-sonnet-4-0", diagnostics: diagnostics)
        var structured = request
        structured.jsonSchema = AnswerSchemas.chatReply
        let (_, outcome) = await client.collect(structured)
        let result = try #require(outcome.value)
        #expect(result.text == "{\"reply\":\"ok\",\"plan_request\":null}")
        #expect(result.structuredMode == .promptOnly)
        #expect(result.retries == 0)
        let bodies = try server.requests.map(jsonBody)
        #expect(bodies.count == 3)
        #expect(bodies[1]["temperature"] == nil)
        #expect(bodies[1]["tools"]?[0]?["strict"] == true)
        #expect(bodies[2]["tools"] == nil)
        #expect(bodies[2]["tool_choice"] == nil)
        #expect(bodies[2]["output_config"] == nil)
        #expect(bodies[2]["system"]?.stringValue?.contains("\"plan_request\"") == true)
        #expect(diagnostics.lines.count == 2)
        // The next call starts with what worked.
        server.enqueue(.eventStream(AnthropicFixture.textAnswer(["{\"reply\":\"again\",\"plan_request\":null}"])))
        _ = await client.collect(structured)
        try await client.shutdown()
        let fourth = try jsonBody(server.requests[3])
        #expect(fourth["tools"] == nil)
        #expect(fourth["temperature"] == nil)
    }

    @Test func aStreamCutMidwayIsAnErrorNotAShortAnswer() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        let events = AnthropicFixture.textAnswer(["The first half", " and the second"])
        server.enqueue(.eventStream(events, cutAfter: 4)) // message_start, block start, ping, first delta
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL)
        let (pieces, outcome) = await client.collect(request)
        try await client.shutdown()
        let error = try #require(outcome.failure)
        #expect(pieces == ["The first half"])
        #expect(error.kind == .streamCutOff)
        #expect(error.partialAnswerDelivered)
        #expect(error.isTransient)
        #expect(server.requests.count == 1)
    }

    @Test func aStreamThatEndsCleanlyWithoutMessageStopIsCutOff() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        // The chunked body ends properly, but the provider never said the message was complete.
        server.enqueue(.eventStream(Array(AnthropicFixture.textAnswer(["partial"]).prefix(5))))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL)
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        #expect(outcome.failure?.kind == .streamCutOff)
    }

    @Test func rateLimitedThenAnsweredHonoursRetryAfter() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(
            .body(status: 429, reason: "Too Many Requests", headers: [("retry-after", "7")],
                  #"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#),
            .eventStream(AnthropicFixture.textAnswer(["fine"])))
        let waits = RecordedWaits()
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, waits: waits)
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        let result = try #require(outcome.value)
        #expect(result.text == "fine")
        #expect(result.retries == 1)
        #expect(waits.all.count == 1)
        #expect(waits.all[0] >= .seconds(7)) // never sooner than retry-after, though backoff alone would say 100 ms
        #expect(server.requests.count == 2)
    }

    @Test func overloadedThenAnsweredBacksOff() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(AnthropicFixture.error(status: 529, type: "overloaded_error", message: "Overloaded"),
                       AnthropicFixture.error(status: 500, type: "api_error", message: "Internal server error"),
                       .eventStream(AnthropicFixture.textAnswer(["third time"])))
        let waits = RecordedWaits()
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, waits: waits)
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        #expect(outcome.value?.text == "third time")
        #expect(outcome.value?.retries == 2)
        // Backoff 100 ms then 200 ms, each with up to 50 % jitter taken off.
        #expect(waits.all.count == 2)
        #expect(waits.all[0] >= .milliseconds(50) && waits.all[0] <= .milliseconds(100))
        #expect(waits.all[1] >= .milliseconds(100) && waits.all[1] <= .milliseconds(200))
    }

    @Test func aBadRequestFailsAtOnceWithTheProvidersMessage() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(AnthropicFixture.error(status: 400, type: "invalid_request_error",
                                              message: "messages: at least one message is required"))
        let waits = RecordedWaits()
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, waits: waits)
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        let error = try #require(outcome.failure)
        #expect(error.kind == .http(status: 400))
        #expect(error.providerMessage == "messages: at least one message is required")
        #expect(error.providerErrorType == "invalid_request_error")
        #expect(error.description.contains("messages: at least one message is required"))
        #expect(!error.description.contains("test-key"))
        #expect(waits.all.isEmpty)
        #expect(server.requests.count == 1)
    }

    /// The stream as bytes, cut at every boundary and with every line ending, through the event
    /// decoder into the Anthropic decoder: the same answer whatever the network does.
    @Test(arguments: ["\n", "\r\n", "\r"])
    func theEventStreamMayArriveCutAnywhere(_ ending: String) throws {
        let events = AnthropicFixture.textAnswer(["Hé", "llo 漢字", " 🚀!"]) + [": keep-alive\n\n"]
        let bytes = Array(events.joined().replacingOccurrences(of: "\n", with: ending).utf8)
        for split in 0...bytes.count {
            var frames = ServerSentEventDecoder()
            var decoder = AnthropicStreamDecoder()
            var text = ""
            for part in [bytes[..<split], bytes[split...]] {
                for event in try frames.feed(part) { text += try decoder.consume(event).joined() }
            }
            #expect(text == "Hé" + "llo 漢字" + " 🚀!", "split at \(split)")
            #expect(decoder.isFinished)
            #expect(try decoder.outcome().usage == LLMUsage(inputTokens: 25, outputTokens: 15, cachedInputTokens: 0, cacheWriteInputTokens: 0))
        }
    }

    @Test func bytesThatAreNotUTF8InAnEventAreReadAsReplacementCharacters() throws {
        var decoder = AnthropicStreamDecoder()
        let data = Array(#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"#.utf8) + [0xFF]
            + Array(#"b"}}"#.utf8)
        #expect(try decoder.consume(ServerSentEvent(event: "content_block_delta", dataBytes: data)) == ["a\u{FFFD}b"])
    }

    @Test func aMalformedEventIsAnError() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream([AnthropicFixture.messageStart(), "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"unterminated\n\n"]))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL)
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        let error = try #require(outcome.failure)
        #expect(error.kind == .malformedStream)
        #expect(server.requests.count == 1)
    }

    @Test func anOverloadErrorEventBeforeAnyTextIsRetriedAfterTextItIsNot() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        let overloaded = AnthropicFixture.event("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
        server.enqueue(.eventStream([AnthropicFixture.messageStart(), overloaded]),
                       .eventStream(AnthropicFixture.textAnswer(["recovered"])))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL)
        let (_, first) = await client.collect(request)
        #expect(first.value?.text == "recovered")
        server.enqueue(.eventStream([AnthropicFixture.messageStart()] + AnthropicFixture.textBlock(["half"]) + [overloaded]))
        let (_, second) = await client.collect(request)
        try await client.shutdown()
        let error = try #require(second.failure)
        #expect(error.kind == .providerStreamError)
        #expect(error.providerMessage == "Overloaded")
        #expect(error.partialAnswerDelivered)
        #expect(server.requests.count == 3)
    }

    @Test func aFiveMegabyteAnswerArrivesWhole() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        let piece = String(repeating: "0123456789abcdef", count: 512) // 8 KiB
        let pieces = Array(repeating: piece, count: 640)             // 5 MiB
        server.enqueue(.eventStream(AnthropicFixture.textAnswer(pieces, output: 1_300_000)))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL)
        let (received, outcome) = await client.collect(request)
        try await client.shutdown()
        let result = try #require(outcome.value)
        #expect(result.text.utf8.count == 5 * 1024 * 1024)
        #expect(received.count == 640)
        #expect(result.usage.outputTokens == 1_300_000)
    }

    @Test func aStructuredAnswerCutByMaxTokensIsTruncatedJSON() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream([AnthropicFixture.messageStart()]
            + AnthropicFixture.toolBlock(name: "answer_chat", jsonPieces: ["{\"reply\": \"and then"])
            + AnthropicFixture.messageEnd(stopReason: "max_tokens", output: 256)))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, model: "claude-sonnet-4-0")
        var structured = request
        structured.jsonSchema = AnswerSchemas.chatReply
        let (_, outcome) = await client.collect(structured)
        try await client.shutdown()
        #expect(outcome.failure?.kind == .truncatedJSON)
    }

    @Test func thinkingBlocksAreNotPartOfTheAnswer() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        let thinking = [
            AnthropicFixture.event("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#),
            AnthropicFixture.event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me see."}}"#),
            AnthropicFixture.event("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}}"#),
            AnthropicFixture.event("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
        ]
        server.enqueue(.eventStream([AnthropicFixture.messageStart()] + thinking + AnthropicFixture.textBlock(["Answer."], index: 1)
            + AnthropicFixture.messageEnd()))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL)
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        #expect(outcome.value?.text == "Answer.")
    }
}
