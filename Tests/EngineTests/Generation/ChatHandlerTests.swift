@testable import Engine
import Foundation
import JSON
import LLM
import Postgres
import Store
import Testing
import TestSupport

/// A chat message that is not a command gets a reply from the model, stored once and announced.
@Suite(.timeLimit(.minutes(2))) struct ChatHandlerTests {
    let harness: GenerationHarness
    let conversation: UUID

    init() throws {
        harness = try GenerationHarness()
        conversation = try harness.makeConversation()
    }

    /// Adds messages to the conversation and queues a chat job for the last one, as the API does.
    func post(_ messages: [(role: String, content: String)]) throws -> UUID {
        try harness.connection.transaction { c in
            let conversations = ConversationQueries(c)
            var last: UUID?
            for message in messages {
                last = try conversations.addMessage(conversationID: conversation, role: message.role, content: message.content).id
            }
            _ = try JobQueue(c).enqueue(.chat, conversationID: conversation, payload: ["message_id": .string(last!.uuidString.lowercased())])
            return last!
        }
    }

    func chatEvents() throws -> [JSONValue] {
        try harness.connection.query("SELECT payload FROM events WHERE conversation_id = $1 AND type = 'chat_message' ORDER BY id",
                                     [conversation]).rows.map { try $0.decode(JSONValue.self, 0) }
    }

    @Test func aReplyIsStoredAndAnnouncedOnce() async throws {
        _ = try post([("user", "hi"), ("assistant", "Hello! What would you like to build?"),
                      ("user", "Something that counts the words in my notes")])
        try await harness.withModel([WordCountFixture.entry(.chat, "chat", WordCountFixture.chatReply)]) { client in
            try await harness.runNextJob(try ChatHandler(client: client))
        }

        let messages = try harness.connection.query("SELECT id, role, content FROM messages WHERE conversation_id = $1 ORDER BY seq",
                                                    [conversation]).rows
        #expect(messages.count == 4)
        #expect(try messages[3].decode(String.self, 1) == "assistant")
        let reply = try messages[3].decode(String.self, 2)
        #expect(reply.hasPrefix("A word counter is a good first project."))
        let replyID = try messages[3].decode(UUID.self, 0)

        let events = try chatEvents()
        #expect(events.count == 1)
        #expect(events[0]["conversation_id"]?.stringValue == conversation.uuidString.lowercased())
        #expect(events[0]["message"]?["id"]?.stringValue == replyID.uuidString.lowercased())
        #expect(events[0]["message"]?["role"] == "assistant")
        #expect(events[0]["message"]?["content"]?.stringValue == reply)
        #expect(events[0]["plan_request"]?.stringValue == WordCountFixture.request)

        let call = try harness.connection.query("SELECT purpose, owner_id, conversation_id, plan_id FROM llm_calls").rows
        #expect(call.count == 1)
        #expect(try call[0].decode(String.self, 0) == "chat")
        #expect(try call[0].decode(UUID.self, 1) == harness.owner)
        #expect(try call[0].decode(UUID.self, 2) == conversation)
        #expect(try call[0].decode(UUID?.self, 3) == nil)

        // The job remembers its reply: run again (as after a crash before it was marked done), it does nothing.
        #expect(try harness.connection.query("SELECT payload->>'reply_message_id' FROM jobs WHERE conversation_id = $1",
                                             [conversation]).first!.decode(String.self, 0) == replyID.uuidString.lowercased())
        try harness.connection.execute("UPDATE jobs SET state = 'queued', finished_at = NULL WHERE conversation_id = $1", [conversation])
        try await harness.withModel([]) { client in
            try await harness.runNextJob(try ChatHandler(client: client))
        }
        #expect(try harness.count("SELECT count(*) FROM messages WHERE conversation_id = $1", [conversation]) == 4)
        #expect(try harness.count("SELECT count(*) FROM llm_calls", []) == 1)
    }

    @Test func aRefusedRequestGetsAPlainWordsReply() async throws {
        _ = try post([("user", "hello?")])
        let refusal = CassetteEntry(purpose: "chat", key: "chat", response: "",
                                    error: .init(status: 400, message: "max_tokens is too large", type: "invalid_request_error"))
        try await harness.withModel([refusal]) { client in
            try await harness.runNextJob(try ChatHandler(client: client))
        }
        let reply = try harness.connection.query(
            "SELECT content FROM messages WHERE conversation_id = $1 AND role = 'assistant'", [conversation]).first!.decode(String.self, 0)
        #expect(reply.hasPrefix("Sorry, I could not answer this time"))
        #expect(try chatEvents().count == 1)
        #expect(try harness.count("SELECT count(*) FROM jobs WHERE conversation_id = $1 AND state = 'done'", [conversation]) == 1)
    }

    @Test func proseInsteadOfTheSchemaIsStillAReply() {
        let prose = ChatHandler.reply(from: "Sure, tell me more.")
        #expect(prose.text == "Sure, tell me more.")
        #expect(prose.planRequest == nil)
        let schema = ChatHandler.reply(from: #"{"reply": "Hi!", "plan_request": null}"#)
        #expect(schema.text == "Hi!")
        #expect(schema.planRequest == nil)
        #expect(ChatHandler.reply(from: #"{"reply": "#).text.hasPrefix("Sorry, my answer came out garbled"))
    }
}
