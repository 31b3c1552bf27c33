import Engine
import Foundation
import JSON
@testable import LLM
import PlanCore
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2))) struct ReplayServerTests {
    static let cassette = """
        # A hand-written cassette: a scripted model, not a real one.
        {"purpose": "chat", "key": "hello", "model": "scripted-demo", "response": "Hello from the cassette!", "usage": {"input_tokens": 12, "output_tokens": 6, "cached_tokens": 0}, "chunk_chars": 6}
        {"purpose": "atom", "key": "task-1/attempt-1", "error": {"status": 429, "message": "scripted rate limit", "type": "rate_limit_error", "retry_after": "1"}}
        {"purpose": "atom", "key": "task-1/attempt-1", "response": "{\\"file\\":\\"main.py\\",\\"content\\":\\"print(1)\\\\n\\",\\"notes\\":\\"\\"}", "usage": {"input_tokens": 300, "output_tokens": 40}}
        {"purpose": "review_suggestions", "key": "*", "response": "any review", "delay_ms": 30}
        """

    func withServer(_ body: (ReplayServer) async throws -> Void) async throws {
        let server = try await ReplayServer.bind(cassette: try Cassette.parse(Self.cassette), host: "127.0.0.1", port: 0)
        let serving = Task { try await server.serve() }
        do {
            try await body(server)
        } catch {
            await server.close()
            throw error
        }
        await server.close()
        try await serving.value
    }

    @Test func streamsAValidOpenAIStreamWithUsage() async throws {
        try await withServer { server in
            #expect(server.port > 0)
            let port = server.port
            let raw = try await offPool {
                try RawHTTP.exchange(port: port, method: "POST", path: "/v1/chat/completions",
                                     headers: [("X-MasterPlan-Purpose", "chat"), ("X-MasterPlan-Key", "hello")],
                                     body: #"{"model":"whatever","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}"#)
            }
            #expect(raw.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(raw.lowercased().contains("content-type: text/event-stream"))
            #expect(raw.lowercased().contains("transfer-encoding: chunked"))
            #expect(raw.lowercased().contains("connection: close"), "the request asked for it")
            let body = try HTTPConnection.body(ofMessage: raw)
            let events = body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.allSatisfy { $0.hasPrefix("data: ") })
            #expect(events.last == "data: [DONE]")
            let chunks = try events.dropLast().map { try JSONValue.parse(String($0.dropFirst(6))) }
            #expect(chunks.first?["choices"]?[0]?["delta"] == ["role": "assistant", "content": ""])
            let text = chunks.compactMap { $0["choices"]?[0]?["delta"]?["content"]?.stringValue }.joined()
            #expect(text == "Hello from the cassette!")
            #expect(chunks.allSatisfy { $0["object"] == "chat.completion.chunk" && $0["model"] == "scripted-demo" })
            let finish = chunks.compactMap { $0["choices"]?[0]?["finish_reason"]?.stringValue }
            #expect(finish == ["stop"])
            let usage = try #require(chunks.last)
            #expect(usage["choices"] == [])
            #expect(usage["usage"]?["prompt_tokens"] == 12)
            #expect(usage["usage"]?["completion_tokens"] == 6)
            #expect(usage["usage"]?["total_tokens"] == 18)
        }
    }

    @Test func answersWithoutStreamingAndListsModels() async throws {
        try await withServer { server in
            let port = server.port
            let (completion, models) = try await offPool {
                (try RawHTTP.exchange(port: port, method: "POST", path: "/v1/chat/completions",
                                      body: #"{"model":"m","messages":[],"metadata":{"masterplan_purpose":"chat","masterplan_key":"hello"}}"#),
                 try RawHTTP.exchange(port: port, method: "GET", path: "/v1/models"))
            }
            #expect(completion.lowercased().contains("connection: close") && models.lowercased().contains("connection: close"))
            let object = try JSONValue.parse(String(try #require(completion.components(separatedBy: "\r\n\r\n").last)))
            #expect(object["object"] == "chat.completion")
            #expect(object["choices"]?[0]?["message"]?["content"] == "Hello from the cassette!")
            #expect(object["usage"]?["prompt_tokens"] == 12)
            let list = try JSONValue.parse(String(try #require(models.components(separatedBy: "\r\n\r\n").last)))
            #expect(list["object"] == "list")
            #expect(list["data"]?[0]?["id"] == "scripted-demo")
        }
    }

    /// With `--simulate-prompt-cache`, the usage comes from what was sent: atoms that share a plan's
    /// context read it from the cache from the second on; the output tokens stay the entry's.
    @Test func aSimulatedPromptCacheReportsTheCachedTokensOfTheSharedContext() async throws {
        let server = try await ReplayServer.bind(cassette: try Cassette.parse(Self.cassette), host: "127.0.0.1", port: 0,
                                                 promptCache: PromptCacheSimulator(rules: .openAI))
        let serving = Task { try await server.serve() }
        let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL, model: "scripted-demo", waits: RecordedWaits())
        let context = (0..<120).map { "\($0). Task \($0) [writes app/module_\($0).py; after \(max(0, $0 - 1))]" }.joined(separator: "\n")
        func atom(_ context: String, _ own: String) -> LLMRequest {
            LLMRequest(purpose: .atom, system: "You write one file.", sharedContext: context, messages: [.init(role: .user, content: own)],
                       jsonSchema: AnswerSchemas.atomFile, key: "task-1/attempt-1")
        }
        var usages: [LLMUsage] = []
        for request in [atom(context, "Task 1: write app/module_1.py"), atom(context, "Task 2: write app/module_2.py, a longer part"),
                        atom("!" + context.dropFirst(), "Task 3: write app/module_3.py")] {
            let (_, outcome) = await client.collect(request)
            usages.append(try #require(outcome.value).usage)
        }
        let (_, review) = await client.collect(LLMRequest(purpose: .reviewSuggestions, system: "", messages: [.init(role: .user, content: "r")],
                                                          key: "review-1"))
        try await client.shutdown()
        await server.close()
        try await serving.value

        let contextTokens = TokenEstimate.tokens(in: context)
        #expect(contextTokens > 1_200)
        #expect(usages.map(\.cachedInputTokens) == [0, usages[1].cachedInputTokens, 0], "the first and the changed context read nothing")
        let cached = try #require(usages[1].cachedInputTokens)
        #expect(cached % 128 == 0 && cached >= 1_024)
        #expect(cached > contextTokens - 128 && cached < usages[1].inputTokens!)
        #expect(usages.allSatisfy { ($0.inputTokens ?? 0) > contextTokens && $0.outputTokens == 40 }, "input from the request, output from the entry")
        // An entry without usage: its output is estimated from the answer.
        #expect(review.value?.usage.outputTokens == TokenEstimate.tokens(in: "any review"))
        let totals = try #require(server.promptCacheTotals()["atom"])
        #expect(totals.requests == 3 && totals.cachedTokens == cached)
        #expect(totals.promptTokens == usages.reduce(0) { $0 + ($1.inputTokens ?? 0) })
        #expect(totals.instructionsOnlyCachedTokens == 0, "the instructions alone are far below 1,024 tokens")
    }

    @Test func anUnmatchedRequestSaysWhatWasAsked() async throws {
        try await withServer { server in
            let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL, model: "scripted-demo")
            let (_, outcome) = await client.collect(LLMRequest(purpose: .chat, system: "", messages: [.init(role: .user, content: "x")],
                                                               key: "goodbye"))
            try await client.shutdown()
            let error = try #require(outcome.failure)
            #expect(error.kind == .http(status: 404))
            #expect(error.providerMessage == #"replay-llm: the cassette has no entry for purpose "chat" and key "goodbye"; its keys for "chat" are "hello""#)
        }
    }

    @Test func aRepeatedKeyConsumesEntriesInOrderSoRetriesCanBeScripted() async throws {
        try await withServer { server in
            let waits = RecordedWaits()
            let client = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL, model: "scripted-demo", waits: waits)
            let request = LLMRequest(purpose: .atom, system: "s", messages: [.init(role: .user, content: "u")],
                                     jsonSchema: AnswerSchemas.atomFile, key: "task-1/attempt-1")
            let (_, outcome) = await client.collect(request)
            let result = try #require(outcome.value)
            #expect(result.retries == 1)
            #expect(waits.all.first.map { $0 >= .seconds(1) } == true)
            #expect(try AnswerParser.atomFile(result.text).content == "print(1)\n")
            #expect(result.usage == LLMUsage(inputTokens: 300, outputTokens: 40, cachedInputTokens: 0))
            // Used up: the last entry keeps answering.
            let (_, again) = await client.collect(request)
            #expect(again.value?.retries == 0)
            // A wildcard key answers any key of its purpose.
            let (_, review) = await client.collect(LLMRequest(purpose: .reviewSuggestions, system: "", messages: [.init(role: .user, content: "r")],
                                                              key: "review-42"))
            try await client.shutdown()
            #expect(review.value?.text == "any review")
            // The entry reports no usage: estimated from the text, and marked so.
            #expect(review.value?.usage.isEstimated == true)
            #expect(review.value?.usage.outputTokens == LLMUsage.estimatedTokens(of: "any review"))
        }
    }

    @Test func refusesToListenBeyondLoopback() async throws {
        await #expect(throws: ReplayServerError.self) {
            _ = try await ReplayServer.bind(cassette: Cassette(entries: []), host: "0.0.0.0", port: 0)
        }
        #expect(ReplayServer.isLoopback("127.0.0.1"))
        #expect(ReplayServer.isLoopback("127.1.2.3"))
        #expect(ReplayServer.isLoopback("::1"))
        #expect(!ReplayServer.isLoopback("10.0.0.1"))
        #expect(!ReplayServer.isLoopback("128.0.0.1"))
        #expect(!ReplayServer.isLoopback("127.0.0.1.example.com"))
    }

    @Test func keysWithAnyCharactersSurviveTheHeader() {
        for key in ["task-3/attempt-2", "ünïcödé key", "100% done", "line\nbreak"] {
            let encoded = OpenAIWire.headerSafe(key)
            #expect(encoded.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F })
            #expect(OpenAIWire.headerDecoded(encoded) == key)
        }
    }
}
