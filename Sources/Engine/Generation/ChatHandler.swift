import Foundation
import JSON
import LLM
import Postgres
import Store

/// Runs `chat` jobs: answers a chat message that is not a `/masterplan` command (payload
/// `{"message_id"}`) with the conversation so far as history, stores the assistant's reply and emits
/// `chat_message` (`{"conversation_id", "message", "plan_request", "in_reply_to"}`: the build
/// request the model distilled from the conversation, or null, and the id of the message answered).
///
/// While the model writes, `ChatReplyProgress` shows the reply so far as `chat_reply_progress`
/// events, at most one per `replyProgressInterval`, all written before `chat_message`.
/// The reply, the job's note that it was stored (`payload.reply_message_id`) and the event are one
/// transaction, so a job run again after a crash never answers twice. A provider that stays
/// unreachable is retried by the daemon while the job has attempts left; after that, or for an error
/// that would only repeat, the reply says in plain words that no answer could be produced. The call's
/// key is `GenerationKeys.chat`.
public struct ChatHandler: JobHandler {
    public let kind = JobKind.chat.rawValue
    public let client: LLMClient
    public let configuration: GenerationConfiguration
    /// The least time between two `chat_reply_progress` events of one reply.
    public let replyProgressInterval: Duration
    let template: PromptTemplate

    /// Loads the chat prompt template, so a broken installation fails when the executor starts.
    public init(client: LLMClient, configuration: GenerationConfiguration = .default,
                replyProgressInterval: Duration = .milliseconds(250)) throws {
        self.client = client
        self.configuration = configuration
        self.replyProgressInterval = replyProgressInterval
        template = try PromptTemplate.load(.chat)
    }

    public func run(_ job: ClaimedJob, context: JobContext) async throws {
        guard let conversationID = job.conversationID else {
            throw JobPayloadError(jobID: job.id, kind: kind, missing: "conversation_id")
        }
        guard let messageID = job.payload["message_id"]?.stringValue.flatMap(UUID.init(uuidString:)) else {
            throw JobPayloadError(jobID: job.id, kind: kind, missing: "payload.message_id")
        }
        if job.payload["reply_message_id"]?.stringValue != nil { return }
        let limit = configuration.chatHistoryLimit
        guard let exchange = try await context.database.run({ c in
            try GenerationQueries(c).chatExchange(conversationID: conversationID, messageID: messageID, historyLimit: limit)
        }) else { return }

        var request = try template.request(["message": exchange.message.content], key: GenerationKeys.chat,
                                           history: ChatTurns.history(exchange.history),
                                           temperature: configuration.chatTemperature, maxTokens: configuration.chatMaxTokens)
        request.messages = ChatTurns.alternating(request.messages)
        try context.checkpoint()

        let progress = ChatReplyProgress(database: context.database, interval: replyProgressInterval, ownerID: exchange.ownerID,
                                         conversationID: conversationID, messageID: messageID)
        let attribution = LLMAttribution(ownerID: exchange.ownerID, jobID: job.id, conversationID: conversationID)
        let outcome = await withTaskGroup(of: Void.self) { group -> Result<LLMResult, LLMError> in
            group.addTask { await progress.run() }
            let outcome: Result<LLMResult, LLMError>
            do throws(LLMError) {
                outcome = .success(try await client.complete(request, attribution: attribution, onText: { progress.append($0) }))
            } catch {
                outcome = .failure(error)
            }
            // No progress event may follow the answer: stop the reporter and wait for an event being written.
            group.cancelAll()
            await group.waitForAll()
            return outcome
        }

        let reply: (text: String, planRequest: String?)
        switch outcome {
        case .success(let result):
            reply = Self.reply(from: result.text)
        case .failure(let error):
            if error.kind == .cancelled { throw CancellationError() }
            if error.kind == .invalidAnswer, let answer = error.answer {
                // A reply that breaks its schema may still be readable prose (see `reply(from:)`).
                reply = Self.reply(from: answer.text)
                break
            }
            if error.isTransient && job.attempts < job.maxAttempts { throw error }
            reply = ("Sorry, I could not answer this time: the model's provider failed (\(error.message)). "
                     + "Please send your message again in a moment.", nil)
        }

        let jobID = job.id, owner = exchange.ownerID
        try await context.database.run { c in
            try c.transaction { c in
                let message = try ConversationQueries(c).addMessage(conversationID: conversationID, role: "assistant",
                                                                    content: reply.text)
                try GenerationQueries(c).recordReply(jobID: jobID, messageID: message.id)
                try GenerationMessages.emitChatMessage(message.json, conversationID: conversationID, ownerID: owner, planID: nil,
                                                       reply: .init(planRequest: reply.planRequest, inReplyTo: messageID), on: c)
            }
        }
    }

    /// The reply in an answer: the schema's `reply`, or — when a model ignored the schema and answered
    /// in prose — that prose.
    static func reply(from answer: String) -> (text: String, planRequest: String?) {
        if let parsed = try? AnswerParser.chatReply(answer) { return (parsed.reply, parsed.planRequest) }
        let prose = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        if !prose.isEmpty && !prose.contains("{") { return (prose, nil) }
        return ("Sorry, my answer came out garbled. Could you say that again, perhaps in other words?", nil)
    }
}
