import Foundation
import JSON

extension ProgressEvent {
    /// `chat_message`: a message was added to a conversation.
    public struct ChatMessage: Sendable, Equatable {
        public var conversationID: UUID
        /// The message as `GET /conversations/{id}` lists it (`ConversationQueries.addMessage`'s JSON).
        public var message: JSONValue
        /// The plan the message is about: one it started, or one whose generation it reports.
        public var planID: UUID?
        /// For an assistant's reply: the plan request it proposes (null for none) and the user message
        /// it answers.
        public var reply: Reply?

        /// What a chat reply adds.
        public struct Reply: Sendable, Equatable {
            public var planRequest: String?
            public var inReplyTo: UUID

            public init(planRequest: String?, inReplyTo: UUID) {
                self.planRequest = planRequest
                self.inReplyTo = inReplyTo
            }
        }

        public init(conversationID: UUID, message: JSONValue, planID: UUID? = nil, reply: Reply? = nil) {
            self.conversationID = conversationID
            self.message = message
            self.planID = planID
            self.reply = reply
        }

        public var json: JSONObject {
            var json: JSONObject = ["conversation_id": conversationID.feedJSON, "message": message]
            if let planID { json["plan_id"] = planID.feedJSON }
            if let reply {
                json["plan_request"] = JSONValue(reply.planRequest)
                json["in_reply_to"] = reply.inReplyTo.feedJSON
            }
            return json
        }
    }

    /// `chat_reply_progress`: the whole chat reply written so far (not a delta, so a browser that
    /// joins late or misses one is still right), while the model streams it.
    public struct ChatReplyProgress: Sendable, Equatable {
        public var conversationID: UUID
        /// The user message being answered.
        public var messageID: UUID
        public var text: String

        public init(conversationID: UUID, messageID: UUID, text: String) {
            self.conversationID = conversationID
            self.messageID = messageID
            self.text = text
        }

        public var json: JSONObject {
            ["conversation_id": conversationID.feedJSON, "message_id": messageID.feedJSON, "text": .string(text),
             "characters": JSONValue(text.count)]
        }
    }
}
