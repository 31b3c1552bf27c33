@testable import Engine
import Foundation
import JSON
import LLM
import Postgres
import Store
import Synchronization
import Testing
import TestSupport

/// A chat reply streams to the browser while the model writes it: `chat_reply_progress` events with
/// the reply so far, throttled, in order, all before the one `chat_message` that stores it.
@Suite(.timeLimit(.minutes(2))) struct ChatReplyProgressTests {
    let harness: GenerationHarness
    let conversation: UUID

    init() throws {
        harness = try GenerationHarness()
        conversation = try harness.makeConversation()
    }

    /// A reply of about 1,300 characters: streamed through the paced proxy it takes a few seconds,
    /// several throttle windows.
    static let longReply: String = {
        let sentences = [
            "A word counter is a good first project, and it grows with you.",
            "It reads \"notes.txt\" (or standard input), splits on whitespace and counts lines, words and characters.",
            "Unicode matters: “naïve café” is two words, 🚀 is one character.",
            "Paths like docs/notes.md and C:\\notes\\today.txt should both work.",
        ]
        return (0..<6).map { sentences[$0 % sentences.count] }.joined(separator: "\n")
            + "\nShall I plan it? Send /masterplan with the request below."
    }()

    static var longAnswer: String {
        JSONValue.object(["reply": .string(longReply), "plan_request": .string(WordCountFixture.request)]).jsonText
    }

    /// Adds a user message and queues its chat job, as the API does.
    func post(_ content: String) throws -> UUID {
        try harness.connection.transaction { c in
            let id = try ConversationQueries(c).addMessage(conversationID: conversation, role: "user", content: content).id
            _ = try JobQueue(c).enqueue(.chat, conversationID: conversation, payload: ["message_id": .string(id.uuidString.lowercased())])
            return id
        }
    }

    /// Runs `body` with a client whose replay server answers through a `PacedProxy`, so the answer
    /// arrives over seconds (the replay server alone writes it all at once): about 6 KB/s, so a long
    /// reply spans many 250 ms windows even when a loaded machine delays the reporter.
    func withPacedModel(_ entries: [CassetteEntry], _ body: (LLMClient) async throws -> Void) async throws {
        let server = try await ReplayServer.bind(cassette: Cassette(entries: entries), host: "127.0.0.1", port: 0)
        let serving = Task { try await server.serve() }
        // However slow a loaded machine makes the reporter, the answer waits for it: after 1,500 bytes
        // until the first progress event is stored, after 3,000 until the second (at most 20 s each).
        let conninfo = harness.conninfo, conversation = conversation
        let waited = Atomic<Int>(0)
        let proxy = try PacedProxy(upstreamPort: server.port, bytesPerPause: 48, pause: .milliseconds(8)) { passed in
            let wanted = passed >= 3_000 ? 2 : passed >= 1_500 ? 1 : 0
            guard wanted > waited.load(ordering: .relaxed) else { return }
            waited.store(wanted, ordering: .relaxed)
            guard let watcher = try? Connection(conninfo) else { return }
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                let seen = (try? watcher.query(
                    "SELECT count(*) FROM events WHERE conversation_id = $1 AND type = 'chat_reply_progress'", [conversation])
                    .first?.decode(Int.self, 0)) ?? 0
                if seen >= wanted { return }
                usleep(20_000)
            }
        }
        let configuration = LLMConfiguration(provider: .openAICompatible, model: WordCountFixture.model, baseURL: proxy.baseURL,
                                             timeouts: LLMTimeouts(connect: .seconds(5), idle: .seconds(30), total: .seconds(60)),
                                             retry: RetryPolicy(maxRetries: 0))
        let client = try LLMClient(configuration: configuration, callLog: PostgresLLMCallLog(conninfo: harness.conninfo),
                                   diagnostics: .silent)
        let outcome: Result<Void, any Error>
        do {
            outcome = .success(try await body(client))
        } catch {
            outcome = .failure(error)
        }
        try await client.shutdown()
        proxy.stop()
        await server.close()
        try await serving.value
        try outcome.get()
    }

    struct ConversationEvent {
        var type: String
        var ownerID: UUID
        var planID: UUID?
        var createdAt: Date
        var payload: JSONValue
    }

    /// The conversation's events in id order.
    func events() throws -> [ConversationEvent] {
        try harness.connection.query(
            "SELECT type, owner_id, plan_id, extract(epoch FROM created_at)::float8, payload FROM events WHERE conversation_id = $1 ORDER BY id",
            [conversation]).rows.map {
            ConversationEvent(type: try $0.decode(String.self, 0), ownerID: try $0.decode(UUID.self, 1),
                              planID: try $0.decode(UUID?.self, 2),
                              createdAt: Date(timeIntervalSince1970: try $0.decode(Double.self, 3)),
                              payload: try $0.decode(JSONValue.self, 4))
        }
    }

    func assistantReplies() throws -> [String] {
        try harness.connection.query("SELECT content FROM messages WHERE conversation_id = $1 AND role = 'assistant' ORDER BY seq",
                                     [conversation]).rows.map { try $0.decode(String.self, 0) }
    }

    /// Checks the stream of events a reply produced and returns its progress events.
    func expectStreamed(reply: String, answering message: UUID) throws -> [ConversationEvent] {
        let events = try events()
        let progress = events.filter { $0.type == "chat_reply_progress" }
        // Several throttle windows passed while the answer arrived: more than one update.
        #expect(progress.count >= 2, "\(progress.count) progress events")
        // Every progress event precedes the one chat_message, which is last.
        #expect(events.map(\.type) == Array(repeating: "chat_reply_progress", count: progress.count) + ["chat_message"])

        var previous = ""
        for (index, event) in progress.enumerated() {
            let text = try #require(event.payload["text"]?.stringValue)
            #expect(event.payload["conversation_id"]?.stringValue == conversation.uuidString.lowercased())
            #expect(event.payload["message_id"]?.stringValue == message.uuidString.lowercased())
            #expect(event.payload["characters"] == JSONValue(text.count))
            #expect(event.ownerID == harness.owner)
            #expect(event.planID == nil)
            // The whole reply so far, growing, and always the start of the final reply.
            #expect(text.count > previous.count && text.hasPrefix(previous), "event \(index) does not extend the one before")
            #expect(reply.hasPrefix(text), "event \(index) is not the start of the reply")
            previous = text
            // At most one per 250 ms: each event's transaction starts after the pause that followed the last.
            if index > 0 {
                #expect(event.createdAt.timeIntervalSince(progress[index - 1].createdAt) >= 0.25)
            }
        }
        let final = try #require(events.last)
        #expect(final.payload["message"]?["content"]?.stringValue == reply)
        #expect(final.payload["in_reply_to"]?.stringValue == message.uuidString.lowercased())
        return progress
    }

    @Test func aLongReplyStreamsAsGrowingProgressBeforeTheStoredMessage() async throws {
        let message = try post("Something that counts the words in my notes")
        let answer = Self.longAnswer
        try await withPacedModel([WordCountFixture.entry(.chat, "chat", answer)]) { client in
            try await harness.runNextJob(try ChatHandler(client: client))
        }

        // The stored reply is exactly what the whole answer parses to.
        let replies = try assistantReplies()
        #expect(replies == [Self.longReply])
        #expect(ChatHandler.reply(from: answer).text == Self.longReply)
        let progress = try expectStreamed(reply: Self.longReply, answering: message)
        #expect(try events().last?.payload["plan_request"]?.stringValue == WordCountFixture.request)

        // Run again (as after a crash before the job was marked done): no second answer, no more events.
        try harness.connection.execute("UPDATE jobs SET state = 'queued', finished_at = NULL WHERE conversation_id = $1", [conversation])
        try await withPacedModel([WordCountFixture.entry(.chat, "chat", answer)]) { client in
            try await harness.runNextJob(try ChatHandler(client: client))
        }
        #expect(try assistantReplies() == [Self.longReply])
        #expect(try events().count == progress.count + 1)
        #expect(try harness.count("SELECT count(*) FROM llm_calls", []) == 1)
    }

    @Test func aProseAnswerStreamsToo() async throws {
        let message = try post("hello?")
        let prose = Self.longReply.replacingOccurrences(of: "\"", with: "'")
        try await withPacedModel([WordCountFixture.entry(.chat, "chat", "\n" + prose + "\n")]) { client in
            try await harness.runNextJob(try ChatHandler(client: client))
        }
        #expect(try assistantReplies() == [prose])
        let progress = try expectStreamed(reply: prose, answering: message)
        #expect(try events().last?.payload["plan_request"] == .null)
        #expect(progress.allSatisfy { !($0.payload["text"]?.stringValue ?? "").hasPrefix("\n") })
    }

    @Test func aFailedCallShowsNoProgressAndAnswersInPlainWords() async throws {
        let message = try post("hello?")
        let refusal = CassetteEntry(purpose: "chat", key: "chat", response: "",
                                    error: .init(status: 400, message: "max_tokens is too large", type: "invalid_request_error"))
        try await withPacedModel([refusal]) { client in
            try await harness.runNextJob(try ChatHandler(client: client))
        }
        let events = try events()
        #expect(events.map(\.type) == ["chat_message"])
        #expect(events.first?.payload["in_reply_to"]?.stringValue == message.uuidString.lowercased())
        #expect(try assistantReplies().first?.hasPrefix("Sorry, I could not answer this time") == true)
    }
}
