import Engine
import Foundation
import JSON
@testable import LLM
import PlanCore
import Testing
import TestSupport

/// Gateways and servers that answer differently from the providers, scripted over HTTP and met by
/// the real client.
@Suite(.timeLimit(.minutes(2))) struct GatewayQuirksTests {
    /// A model without native structured outputs: the strict forced tool is its first form.
    static let toolModel = "claude-sonnet-4-0"
    static let document = #"{"reply":"Here is a plan for the FastAPI service with JWT auth.","plan_request":null}"#
    /// `document` as `boundedChatReply` wants it (the client checks every answer against its whole schema).
    static let taggedDocument = #"{"reply":"Here is a plan for the FastAPI service with JWT auth.","plan_request":null,"tags":["fastapi","jwt"]}"#

    var chat: LLMRequest {
        LLMRequest(purpose: .chat, system: "You are terse.", messages: [.init(role: .user, content: "Plan it")],
                   temperature: 0.3, maxTokens: 1024, jsonSchema: AnswerSchemas.chatReply, key: "chat-1")
    }

    // MARK: - Per-token tool_use blocks

    @Test(arguments: [false, true])
    func perTokenToolUseBlocksAreAssembledIntoOneAnswer(idOnFirstBlockOnly: Bool) async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        let tokens = GatewayFixture.tokens(of: Self.document)
        // Prose first (index 0), then one block per token from index 1.
        server.enqueue(.eventStream([AnthropicFixture.messageStart()] + AnthropicFixture.textBlock(["Sure, calling the tool."])
            + GatewayFixture.perTokenToolBlocks(name: "answer_chat", tokens: tokens, firstIndex: 1, idOnFirstBlockOnly: idOnFirstBlockOnly)
            + AnthropicFixture.messageEnd(stopReason: "tool_use", output: tokens.count)))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, model: Self.toolModel)
        let (pieces, outcome) = await client.collect(chat)
        try await client.shutdown()
        let result = try #require(outcome.value)
        #expect(tokens.count > 20)
        #expect(result.text == Self.document)
        #expect(pieces.joined() == Self.document)
        #expect(!result.text.contains("Sure"))
        #expect(try AnswerParser.chatReply(result.text).reply == "Here is a plan for the FastAPI service with JWT auth.")
        #expect(result.structuredMode == .anthropicStrictTool)
    }

    @Test func perTokenToolUseBlocksThatDoNotParseAreAFailureNotASuccess() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        // The gateway lost the end of the input but still reported a normal tool_use stop.
        let tokens = GatewayFixture.tokens(of: String(Self.document.prefix(30)))
        server.enqueue(.eventStream([AnthropicFixture.messageStart()]
            + GatewayFixture.perTokenToolBlocks(name: "answer_chat", tokens: tokens)
            + AnthropicFixture.messageEnd(stopReason: "tool_use", output: tokens.count)))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, model: Self.toolModel)
        let (_, outcome) = await client.collect(chat)
        try await client.shutdown()
        let error = try #require(outcome.failure)
        #expect(error.kind == .malformedStream)
        #expect(error.message.contains("not one complete JSON object"))
        #expect(error.message.contains("\(tokens.count) tool_use blocks"))
    }

    @Test func theFirstTokenAloneIsNeverTheAnswer() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        // What the old decoder delivered as a success: the first block's input, "{".
        server.enqueue(.eventStream([AnthropicFixture.messageStart()]
            + GatewayFixture.perTokenToolBlocks(name: "answer_chat", tokens: ["{"])
            + AnthropicFixture.messageEnd(stopReason: "tool_use", output: 1)))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, model: Self.toolModel)
        let (_, outcome) = await client.collect(chat)
        try await client.shutdown()
        #expect(outcome.failure?.kind == .malformedStream)
    }

    @Test func perTokenBlocksCutByMaxTokensAreTruncatedJSON() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        let tokens = GatewayFixture.tokens(of: String(Self.document.prefix(30)))
        server.enqueue(.eventStream([AnthropicFixture.messageStart()]
            + GatewayFixture.perTokenToolBlocks(name: "answer_chat", tokens: tokens)
            + AnthropicFixture.messageEnd(stopReason: "max_tokens", output: 1024)))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, model: Self.toolModel)
        let (_, outcome) = await client.collect(chat)
        try await client.shutdown()
        #expect(outcome.failure?.kind == .truncatedJSON)
    }

    @Test func aSecondCallWithAnotherIDIsNotPartOfTheAnswer() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream([AnthropicFixture.messageStart()]
            + GatewayFixture.toolBlock(name: "answer_chat", id: "toolu_first", jsonPieces: GatewayFixture.tokens(of: Self.document), index: 0)
            + GatewayFixture.toolBlock(name: "answer_chat", id: "toolu_second", jsonPieces: [#"{"reply":"again","plan_request":null}"#], index: 1)
            + AnthropicFixture.messageEnd(stopReason: "tool_use")))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, model: Self.toolModel)
        let (_, outcome) = await client.collect(chat)
        try await client.shutdown()
        #expect(outcome.value?.text == Self.document)
    }

    /// A gateway that ignored `stream: true` answered in one piece.
    @Test func aWholeAnswerWithSeveralBlocksOfTheToolIsAssembledOrRefused() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        func answer(_ blocks: [String]) -> ScriptedHTTPServer.Response {
            .body(status: 200, #"{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-0","content":[{"type":"text","text":"Calling the tool."},\#(blocks.joined(separator: ","))],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":40,"output_tokens":30}}"#)
        }
        let pieces = GatewayFixture.tokens(of: Self.document, size: 12)
        let stringBlocks = pieces.map { #"{"type":"tool_use","id":"call_1","name":"answer_chat","input":\#(JSONValue.string($0).jsonText)}"# }
        server.enqueue(answer(stringBlocks),
                       answer([#"{"type":"tool_use","id":"call_1","name":"answer_chat","input":{"reply":"one","plan_request":null}}"#,
                               #"{"type":"tool_use","id":"call_1","name":"answer_chat","input":{"reply":"two","plan_request":null}}"#]),
                       answer([#"{"type":"tool_use","id":"call_1","name":"answer_chat","input":{"reply":"whole","plan_request":null}}"#]))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, model: Self.toolModel)
        let (_, assembled) = await client.collect(chat)
        #expect(assembled.value?.text == Self.document)
        let (_, twoObjects) = await client.collect(chat)
        #expect(twoObjects.failure?.kind == .malformedStream)
        #expect(twoObjects.failure?.message.contains("2 separate objects") == true)
        let (received, whole) = await client.collect(chat)
        try await client.shutdown()
        #expect(try JSONValue.parse(try #require(whole.value).text) == ["reply": "whole", "plan_request": nil])
        #expect(received.count == 1) // the prose before the call is not part of the answer
    }

    // MARK: - system as blocks refused

    @Test func aServerRefusingBlocksWith500NamingSystemGetsPlainStrings() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(GatewayFixture.systemArrayRefused, .eventStream(AnthropicFixture.textAnswer(["planned"])))
        let waits = RecordedWaits()
        let diagnostics = CollectedDiagnostics()
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, waits: waits, diagnostics: diagnostics)
        var request = LLMRequest(purpose: .atom, system: "You write code.", sharedContext: "Project: shop. Stack: FastAPI.",
                                 messages: [.init(role: .user, content: "Write app/main.py")], maxTokens: 2048, key: "task-1")
        let (_, outcome) = await client.collect(request)
        #expect(outcome.value?.text == "planned")
        #expect(waits.all.isEmpty) // a refused form is not a server failure: no backoff
        let first = try jsonBody(server.requests[0])
        #expect(first["system"] == "You write code.")
        #expect(first["messages"]?[0]?["content"] == [
            ["type": "text", "text": "Project: shop. Stack: FastAPI.", "cache_control": ["type": "ephemeral"]],
            ["type": "text", "text": "Write app/main.py"],
        ])
        let second = try jsonBody(server.requests[1])
        #expect(second["system"] == "You write code.")
        #expect(second["messages"] == [["role": "user", "content": "Project: shop. Stack: FastAPI.\n\nWrite app/main.py"]])
        #expect(!second.jsonText.contains("cache_control"))
        #expect(diagnostics.lines.count == 1)
        // The next call starts with what worked.
        server.enqueue(.eventStream(AnthropicFixture.textAnswer(["again"])))
        request.key = "task-2"
        _ = await client.collect(request)
        try await client.shutdown()
        #expect(try jsonBody(server.requests[2])["messages"]?[0]?["content"]?.stringValue != nil)
    }

    @Test func aLongSystemBlockRefusedWith500NamingSystemIsSentAsAString() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(GatewayFixture.systemArrayRefused, .eventStream(AnthropicFixture.textAnswer(["ok"])))
        let waits = RecordedWaits()
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, model: "claude-sonnet-4-5", waits: waits)
        let system = String(repeating: "Follow the house style. ", count: 400) // about 2,400 tokens: cacheable
        let (_, outcome) = await client.collect(LLMRequest(purpose: .chat, system: system, messages: [.init(role: .user, content: "hi")]))
        try await client.shutdown()
        #expect(outcome.value?.text == "ok")
        #expect(waits.all.isEmpty)
        let bodies = try server.requests.map(jsonBody)
        #expect(bodies[0]["system"] == [["type": "text", "text": .string(system), "cache_control": ["type": "ephemeral"]]])
        #expect(bodies[1]["system"] == .string(system))
    }

    @Test func aBare500IsRetriedWithTheSameBlocks() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(GatewayFixture.anthropicInternalError, .eventStream(AnthropicFixture.textAnswer(["fine"])))
        let waits = RecordedWaits()
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, waits: waits)
        let request = LLMRequest(purpose: .atom, system: "You write code.", sharedContext: "Project: shop.",
                                 messages: [.init(role: .user, content: "Write it")], key: "task-1")
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        #expect(outcome.value?.retries == 1)
        #expect(waits.all.count == 1)
        let bodies = try server.requests.map(jsonBody)
        #expect(bodies[0] == bodies[1])
        #expect(bodies[1].jsonText.contains("cache_control"))
    }

    // MARK: - Where the cache breakpoint goes

    @Test func aShortSystemPromptIsAPlainStringALongOneACachedBlock() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream(AnthropicFixture.textAnswer(["a"])), .eventStream(AnthropicFixture.textAnswer(["b"])),
                       .eventStream(AnthropicFixture.textAnswer(["c"])))
        // claude-sonnet-4-5 caches from 1,024 tokens; estimated at four characters a token.
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, model: "claude-sonnet-4-5")
        let short = LLMRequest(purpose: .chat, system: String(repeating: "Be terse. ", count: 400), // 4,000 characters
                               messages: [.init(role: .user, content: "hi")])
        var long = short
        long.system = String(repeating: "Be terse. ", count: 420) // 4,200 characters
        _ = await client.collect(short)
        _ = await client.collect(long)
        try await client.shutdown()
        let bodies = try server.requests.map(jsonBody)
        #expect(bodies[0]["system"]?.stringValue == short.system)
        #expect(bodies[1]["system"] == [["type": "text", "text": .string(long.system), "cache_control": ["type": "ephemeral"]]])
        // The same prompt is too short for a model that caches from 4,096 tokens.
        #expect(!AnthropicWire.isCacheable(estimatedTokens: long.system.count / AnthropicWire.charactersPerToken, model: "claude-opus-4-6"))
    }

    // MARK: - Native structured output and the ladder

    @Test func aModelWithNativeStructuredOutputGetsTheOutputFormatWithoutBounds() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream(AnthropicFixture.textAnswer(GatewayFixture.tokens(of: Self.taggedDocument))))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, model: "claude-sonnet-4-5")
        var request = chat
        request.jsonSchema = Self.boundedChatReply
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        let result = try #require(outcome.value)
        #expect(result.text == Self.taggedDocument)
        #expect(result.structuredMode == .anthropicOutputFormat)
        let body = try jsonBody(try #require(server.requests.first))
        #expect(body["tools"] == nil)
        #expect(body["tool_choice"] == nil)
        #expect(server.requests[0].headers["anthropic-beta"] == nil) // generally available: no beta header
        let schema = try #require(body["output_config"]?["format"]?["schema"])
        #expect(body["output_config"]?["format"]?["type"] == "json_schema")
        #expect(schema["properties"]?["reply"]?["maxLength"] == nil)
        #expect(schema["properties"]?["reply"]?["description"]?.stringValue?.contains("maxLength: 2000") == true)
        #expect(schema["properties"]?["plan_request"]?["anyOf"] == [["type": "string", "description": "(limits: maxLength: 500)"], ["type": "null"]])
        #expect(WireSchema.droppedKeywords(schema, for: .anthropicStrict).isEmpty)
    }

    @Test func theNativeFormatRefusedByNameStepsDownToTheStrictTool() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(AnthropicFixture.error(status: 400, type: "invalid_request_error", message: "output_config: Extra inputs are not permitted"),
                       .eventStream([AnthropicFixture.messageStart()] + AnthropicFixture.toolBlock(name: "answer_chat", jsonPieces: [Self.document])
                                    + AnthropicFixture.messageEnd(stopReason: "tool_use")))
        let waits = RecordedWaits()
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, model: "claude-opus-4-6", waits: waits)
        let (_, outcome) = await client.collect(chat)
        try await client.shutdown()
        let result = try #require(outcome.value)
        #expect(result.structuredMode == .anthropicStrictTool)
        #expect(result.text == Self.document)
        #expect(waits.all.isEmpty)
        let bodies = try server.requests.map(jsonBody)
        #expect(bodies[0]["output_config"] != nil)
        #expect(bodies[1]["output_config"] == nil)
        #expect(bodies[1]["tools"]?[0]?["strict"] == true)
        #expect(bodies[1]["tool_choice"] == ["type": "tool", "name": "answer_chat"])
    }

    @Test func aBare500OrAnUnrelated400NeverStepsDown() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(GatewayFixture.anthropicInternalError, .eventStream(AnthropicFixture.textAnswer([Self.document])),
                       AnthropicFixture.error(status: 400, type: "invalid_request_error",
                                              message: "messages: roles must alternate between 'user' and 'assistant'"))
        let waits = RecordedWaits()
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, model: "claude-sonnet-4-5", waits: waits)
        let (_, afterServerError) = await client.collect(chat)
        #expect(afterServerError.value?.structuredMode == .anthropicOutputFormat)
        #expect(afterServerError.value?.retries == 1)
        let (_, badRequest) = await client.collect(chat)
        try await client.shutdown()
        #expect(badRequest.failure?.kind == .http(status: 400))
        #expect(server.requests.count == 3)
        #expect(try server.requests.map(jsonBody).allSatisfy { $0["output_config"] != nil })
    }

    @Test func strictRefusedByNameStepsToThePlainToolWithTheWholeSchema() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(AnthropicFixture.error(status: 400, type: "invalid_request_error", message: "tools.0.strict: Extra inputs are not permitted"),
                       .eventStream([AnthropicFixture.messageStart()] + AnthropicFixture.toolBlock(name: "answer_chat", jsonPieces: [Self.taggedDocument])
                                    + AnthropicFixture.messageEnd(stopReason: "tool_use")))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, model: Self.toolModel)
        var request = chat
        request.jsonSchema = Self.boundedChatReply
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        #expect(outcome.value?.structuredMode == .anthropicTool)
        let bodies = try server.requests.map(jsonBody)
        #expect(bodies[0]["tools"]?[0]?["strict"] == true)
        #expect(bodies[0]["tools"]?[0]?["input_schema"] == WireSchema.reduced(Self.boundedChatReply, for: .anthropicStrict))
        #expect(bodies[1]["tools"]?[0]?["strict"] == nil)
        #expect(bodies[1]["tools"]?[0]?["input_schema"] == Self.boundedChatReply)
    }

    // MARK: - Context window

    @Test(arguments: [false, true])
    func anthropicsContextWindowStopIsAContextWindowError(structured: Bool) async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream([AnthropicFixture.messageStart()] + AnthropicFixture.textBlock(["{\"reply\":\"the start of"])
            + AnthropicFixture.messageEnd(stopReason: "model_context_window_exceeded", output: 300)))
        let client = try LLMClient.forTest(.anthropic, baseURL: server.baseURL, model: "claude-sonnet-4-5")
        var request = chat
        if !structured { request.jsonSchema = nil }
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        let error = try #require(outcome.failure)
        #expect(error.kind == .contextWindow)
        #expect(error.message.contains("context window"))
        #expect(server.requests.count == 1)
    }

    @Test(arguments: [false, true])
    func aLengthStopShortOfMaxTokensIsTheServersContextWindow(structured: Bool) async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        // A llama.cpp server with a 4,096-token context stopped after 700 of the 1,024 tokens asked for.
        server.enqueue(.eventStream(OpenAIFixture.answer([#"{"reply":"cut"#], finish: "length", usage: (3396, 700, 0))),
                       .eventStream(OpenAIFixture.answer([#"{"reply":"cut"#], finish: "length", usage: (100, 1024, 0))))
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "qwen2.5-coder")
        var request = chat
        if !structured { request.jsonSchema = nil }
        let (_, windowed) = await client.collect(request)
        #expect(windowed.failure?.kind == .contextWindow)
        #expect(windowed.failure?.message.contains("700 of the 1024") == true)
        // At the request's own limit it is the token limit, as before.
        let (_, limited) = await client.collect(request)
        try await client.shutdown()
        if structured {
            #expect(limited.failure?.kind == .truncatedJSON)
        } else {
            #expect(limited.value?.stopReason == .maxTokens)
        }
    }

    @Test func aContextErrorIsNeverAReasonToStepDown() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(GatewayFixture.llamaCppContextExceeded)
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "qwen2.5-coder")
        let (_, outcome) = await client.collect(chat)
        try await client.shutdown()
        #expect(outcome.failure != nil)
        #expect(server.requests.count == 1)
    }

    @Test(arguments: [
        (400, #"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5120,"n_ctx":4096}}"#, true),
        (400, #"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130212 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#, true),
        (400, #"{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (1000 in the messages, 4000 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400}"#, true),
        (400, #"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210394 tokens > 200000 maximum"}}"#, true),
        (400, #"{"error":{"message":"'response_format.type' must be 'json_schema' or 'text'","type":"invalid_request_error"}}"#, false),
        (500, #"{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}"#, false),
    ])
    func contextWindowErrorsAreRecognised(status: Int, body: String, expected: Bool) {
        #expect(ProviderFailure.parse(status: status, body: Array(body.utf8)).isContextWindow == expected)
    }

    // MARK: - OpenAI's ladder

    @Test func aBare500OnJSONSchemaIsRetriedNotSteppedDown() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(OpenAIFixture.error(status: 500, message: "The server had an error while processing your request.", type: "server_error"),
                       .eventStream(OpenAIFixture.answer([Self.document])))
        let waits = RecordedWaits()
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "qwen2.5-coder", waits: waits)
        let (_, outcome) = await client.collect(chat)
        try await client.shutdown()
        let result = try #require(outcome.value)
        #expect(result.structuredMode == .jsonSchema)
        #expect(result.retries == 1)
        #expect(waits.all.count == 1)
        let bodies = try server.requests.map(jsonBody)
        #expect(bodies.allSatisfy { $0["response_format"]?["type"] == "json_schema" })
    }

    @Test func a500NamingJSONSchemaStepsDownAtOnce() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.body(status: 500, reason: "Internal Server Error",
                             #"{"error":{"code":500,"message":"Unsupported response_format type: json_schema","type":"server_error"}}"#),
                       .eventStream(OpenAIFixture.llamaCppAnswer([Self.taggedDocument])))
        let waits = RecordedWaits()
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "smollm2", waits: waits)
        var request = chat
        request.jsonSchema = Self.boundedChatReply
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        #expect(outcome.value?.structuredMode == .jsonObjectWithSchema)
        #expect(waits.all.isEmpty)
        // llama.cpp's grammar enforces the bounds: the schema goes whole.
        #expect(try jsonBody(server.requests[1])["response_format"] == ["type": "json_object", "schema": Self.boundedChatReply])
    }

    @Test func openAIGetsTheStrictSubsetACompatibleServerTheWholeSchema() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(.eventStream(OpenAIFixture.answer([Self.taggedDocument])), .eventStream(OpenAIFixture.answer([Self.taggedDocument])))
        var request = chat
        request.jsonSchema = Self.boundedChatReply
        let openAI = try LLMClient.forTest(.openai, baseURL: server.baseURL + "/v1", model: "gpt-4.1-mini")
        _ = await openAI.collect(request)
        try await openAI.shutdown()
        let vllm = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "Qwen/Qwen2.5-7B-Instruct")
        _ = await vllm.collect(request)
        try await vllm.shutdown()
        let strict = try #require(try jsonBody(server.requests[0])["response_format"]?["json_schema"])
        #expect(strict["strict"] == true)
        let schema = try #require(strict["schema"])
        #expect(schema["properties"]?["reply"]?["maxLength"] == nil)
        #expect(schema["properties"]?["reply"]?["description"]?.stringValue?.contains("maxLength: 2000") == true)
        #expect(schema["properties"]?["tags"]?["maxItems"] == 8) // OpenAI's strict mode enforces array counts
        #expect(WireSchema.droppedKeywords(schema, for: .openAIStrict).isEmpty)
        #expect(try jsonBody(server.requests[1])["response_format"]?["json_schema"]?["schema"] == Self.boundedChatReply)
    }

    @Test func aCompatibleServerRefusingABoundGetsTheStrictSubsetStillStrict() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        server.enqueue(OpenAIFixture.error(status: 400, message: "Invalid schema for response_format 'chat': In context=('properties', 'reply'), 'maxLength' is not permitted.",
                                           param: "response_format"),
                       .eventStream(OpenAIFixture.answer([Self.taggedDocument])))
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL + "/v1", model: "gpt-4.1-mini")
        var request = chat
        request.jsonSchema = Self.boundedChatReply
        let (_, outcome) = await client.collect(request)
        try await client.shutdown()
        #expect(outcome.value?.structuredMode == .jsonSchema)
        #expect(try jsonBody(server.requests[1])["response_format"]?["json_schema"]?["schema"]
                == WireSchema.reduced(Self.boundedChatReply, for: .openAIStrict))
    }

    /// The chat reply with bounds, as the answer schemas carry them.
    static let boundedChatReply: JSONValue = [
        "type": "object",
        "properties": [
            "reply": ["type": "string", "maxLength": 2000],
            "plan_request": ["type": ["string", "null"], "maxLength": 500],
            "tags": ["type": "array", "items": ["type": "string", "maxLength": 40], "minItems": 0, "maxItems": 8],
        ],
        "required": ["reply", "plan_request", "tags"],
        "additionalProperties": false,
    ]
}
