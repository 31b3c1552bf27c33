import Foundation
import JSON
import Postgres

/// A new migrated database holding one user's conversation, on which `chat` jobs are queued: the job
/// table as the claim and daemon tests use it (a chat job needs only its conversation).
public struct ChatJobQueue: Sendable {
    public let conninfo: String
    public let connection: Connection
    public let conversation: UUID

    /// Makes the database, a user tagged `tag` and the conversation.
    public init(tag: String) throws {
        conninfo = try TestDatabase.migrated()
        connection = try Connection(conninfo)
        let user = try TestDatabase.insertUser(tag, on: connection)
        conversation = try connection.query("INSERT INTO conversations (owner_id) VALUES ($1) RETURNING id", [user]).first!.decode(UUID.self, 0)
    }

    /// Queues a `chat` job on the conversation, due now; its id.
    @discardableResult
    public func enqueue(maxAttempts: Int = 3, payload: JSONValue = ["n": 1]) throws -> UUID {
        try connection.query("INSERT INTO jobs (kind, conversation_id, payload, max_attempts) VALUES ('chat', $1, $2, $3) RETURNING id",
                             [conversation, payload, maxAttempts]).first!.decode(UUID.self, 0)
    }
}
