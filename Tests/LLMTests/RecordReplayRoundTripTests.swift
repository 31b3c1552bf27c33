@testable import Engine
import Foundation
import JSON
@testable import LLM
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2))) struct RecordReplayRoundTripTests {
    @Test func whatTheRecorderWritesTheReplayServerAnswers() async throws {
        let cassettePath = NSTemporaryDirectory() + "masterplan-cassette-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: cassettePath) }

        // Record two calls against a "real" Anthropic model (the scripted wire server).
        let provider = try ScriptedHTTPServer()
        defer { provider.stop() }
        provider.enqueue(.eventStream(AnthropicFixture.textAnswer(["Plan ", "accepted."], input: 40, output: 5, cacheRead: 1200)),
                         // claude-sonnet-4-5 answers a structured call in its native output format: the text is the document.
                         .eventStream(AnthropicFixture.textAnswer([#"{"file":"app.py","content":"#, #""x = 1\n","notes":"ok"}"#],
                                                                  input: 90, output: 30)))
        let recording = try LLMClient.forTest(.anthropic, baseURL: provider.baseURL, recordPath: cassettePath)
        let chat = LLMRequest(purpose: .chat, system: "sys", messages: [.init(role: .user, content: "go?")], key: "conversation-1/message-4")
        let atom = LLMRequest(purpose: .atom, system: "sys", messages: [.init(role: .user, content: "write app.py")],
                              jsonSchema: AnswerSchemas.atomFile, key: "task-1/attempt-1")
        let recordedChat = try await recording.complete(chat)
        let recordedAtom = try await recording.complete(atom)
        try await recording.shutdown()

        let cassette = try Cassette.load(path: cassettePath)
        #expect(cassette.entries.count == 2)
        #expect(cassette.entries[0].purpose == "chat")
        #expect(cassette.entries[0].key == "conversation-1/message-4")
        #expect(cassette.entries[0].fingerprint == chat.fingerprint)
        #expect(cassette.entries[0].provider == "anthropic")
        #expect(cassette.entries[1].response == recordedAtom.text)

        // Replay them through the OpenAI-compatible client, as the offline demo does.
        let server = try await ReplayServer.bind(cassette: cassette, host: "127.0.0.1", port: 0)
        let serving = Task { try await server.serve() }
        let replaying = try LLMClient.forTest(.openAICompatible, baseURL: server.baseURL, model: "replay", apiKey: nil)
        let replayedAtom = try await replaying.complete(atom)
        let replayedChat = try await replaying.complete(chat)
        try await replaying.shutdown()
        await server.close()
        try await serving.value

        #expect(replayedChat.text == recordedChat.text)
        #expect(replayedChat.isScripted && !recordedChat.isScripted)
        #expect(replayedChat.usage == recordedChat.usage.withoutCacheWrites)
        #expect(replayedChat.model == recordedChat.model)
        #expect(replayedAtom.text == recordedAtom.text)
        #expect(try AnswerParser.atomFile(replayedAtom.text) == AtomFileAnswer(file: "app.py", content: "x = 1\n", notes: "ok"))
        #expect(replayedAtom.usage.inputTokens == 90)
        #expect(replayedAtom.usage.outputTokens == 30)
    }
}

extension LLMUsage {
    /// The OpenAI usage shape has no cache-write count.
    var withoutCacheWrites: LLMUsage {
        var copy = self
        copy.cacheWriteInputTokens = nil
        return copy
    }
}
