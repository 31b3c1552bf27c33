import Foundation
import JSON
import Postgres
import Store
import Synchronization

/// Shows a chat reply while the model writes it: `chat_reply_progress` events
/// (`{"conversation_id", "message_id", "text", "characters"}`, `message_id` being the user message
/// answered) carrying the whole reply so far, so a browser that joins late or misses one is still right.
///
/// The model's stream only appends to a buffer and wakes the reporter (`append`, which never waits);
/// the reporter, one task, reads the reply out of the buffer and writes an event when the reply grew,
/// at most one per `interval`: the first piece is shown at once, and what arrives during a pause is
/// shown when the pause ends. One writer, each event its own transaction, so events are in order;
/// `run` returns only when no event is being written, so the final `chat_message` comes after them all.
///
/// Best effort, like the plan's token progress: a database hiccup loses one event, never the reply.
final class ChatReplyProgress: Sendable {
    let database: AsyncDatabase
    let interval: Duration
    let ownerID: UUID
    let conversationID: UUID
    let messageID: UUID
    private let received = Mutex("")
    private let wakeUps: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(database: AsyncDatabase, interval: Duration, ownerID: UUID, conversationID: UUID, messageID: UUID) {
        self.database = database
        self.interval = interval
        self.ownerID = ownerID
        self.conversationID = conversationID
        self.messageID = messageID
        // Wake-ups coalesce: however many pieces arrived meanwhile, the reporter reads the buffer once.
        (wakeUps, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Adds a piece of the answer; called from the model's stream, it returns at once.
    func append(_ piece: String) {
        received.withLock { $0 += piece }
        wake.yield()
    }

    /// The answer received so far.
    private var answer: String { received.withLock { $0 } }

    /// Reports until the task is cancelled (when the answer is complete or the call failed); an event
    /// being written then is finished first.
    func run() async {
        var shown = ""
        for await _ in wakeUps {
            if Task.isCancelled { return }
            let reply = PartialChatReply.text(in: answer)
            if reply.utf8.count > shown.utf8.count {
                await emit(reply)
                shown = reply
            }
            // Cancelling ends the wait early; nothing is written after it.
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
        }
    }

    private func emit(_ reply: String) async {
        let owner = ownerID, conversation = conversationID
        let event = ProgressEvent.chatReplyProgress(.init(conversationID: conversationID, messageID: messageID, text: reply))
        _ = try? await database.run { c in
            try EventFeed(c).emit(event, ownerID: owner, conversationID: conversation)
        }
    }
}
