import Foundation
import JSON
import Postgres

/// SQL for the chat that starts a plan: `conversations` and their `messages`. Every read takes the
/// owner, so another user's conversation is simply not found.
public struct ConversationQueries {
    public let connection: Connection

    public init(_ connection: Connection) { self.connection = connection }

    static let conversationJSON = """
        json_build_object('id', c.id, 'title', c.title, 'created_at', c.created_at, 'updated_at', c.updated_at,
                          'message_count', (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id))
        """

    static let messageJSON = """
        json_build_object('id', m.id, 'conversation_id', m.conversation_id, 'role', m.role, 'content', m.content,
                          'created_at', m.created_at,
                          'plan_id', (SELECT p.id FROM masterplans p WHERE p.source_message_id = m.id LIMIT 1))
        """

    /// Starts a conversation; returns its JSON.
    public func create(ownerID: UUID, title: String) throws -> JSONValue {
        try connection.query(
            "WITH c AS (INSERT INTO conversations (owner_id, title) VALUES ($1, $2) RETURNING *) SELECT \(Self.conversationJSON) FROM c",
            [ownerID, title]).first!.decode(JSONValue.self, 0)
    }

    /// The sort key of `list`: `updated_at`, `id`.
    public static let listKey: [PageKeyKind] = [.timestamp, .uuid]

    /// The owner's conversations, most recently active first.
    public func list(ownerID: UUID, page: PageRequest) throws -> Page {
        let after = page.after(for: Self.listKey)
        let rows = try connection.query(
            """
            SELECT \(Self.conversationJSON), c.updated_at::text, c.id::text FROM conversations c
            WHERE c.owner_id = $1 AND ($2::timestamptz IS NULL OR (c.updated_at, c.id) < ($2::timestamptz, $3::uuid))
            ORDER BY c.updated_at DESC, c.id DESC LIMIT $4
            """,
            [ownerID, after?[0], after?[1], page.limit + 1]).rows
        return try Page.from(rows, limit: page.limit, keyColumns: 2)
    }

    /// True when the conversation exists and belongs to the owner.
    /// Names a conversation after the plan it started (`projectName`), unless someone chose its title:
    /// only a title that is still the request's first 80 characters (what the review UI gives a new
    /// conversation) or empty is replaced. Another conversation of the owner with that name already
    /// makes it "name (2)", "name (3)", …, so the list tells them apart. Returns whether it renamed.
    @discardableResult
    public func nameAfterPlan(id: UUID, projectName: String, request: String) throws -> Bool {
        try connection.execute(
            """
            UPDATE conversations c
            SET title = $2 || CASE WHEN k.n = 0 THEN '' ELSE ' (' || (k.n + 1) || ')' END
            FROM (SELECT count(*) AS n FROM conversations o, conversations me
                  WHERE me.id = $1 AND o.owner_id = me.owner_id AND o.id <> $1
                    AND (o.title = $2 OR (left(o.title, length($2) + 2) = $2 || ' (' AND right(o.title, 1) = ')'))) k
            WHERE c.id = $1 AND (btrim(c.title) = '' OR c.title = left(btrim($3), 80))
            """, [id, projectName, request]) == 1
    }

    public func exists(id: UUID, ownerID: UUID) throws -> Bool {
        try !connection.query("SELECT 1 FROM conversations WHERE id = $1 AND owner_id = $2", [id, ownerID]).isEmpty
    }

    /// The conversation with its messages in order, or nil when the owner has no such conversation.
    public func conversation(id: UUID, ownerID: UUID) throws -> JSONValue? {
        try connection.query(
            """
            SELECT json_build_object('id', c.id, 'title', c.title, 'created_at', c.created_at, 'updated_at', c.updated_at,
                   'messages', coalesce((SELECT json_agg(\(Self.messageJSON) ORDER BY m.seq) FROM messages m
                                         WHERE m.conversation_id = c.id), '[]'::json))
            FROM conversations c WHERE c.id = $1 AND c.owner_id = $2
            """,
            [id, ownerID]).first?.decode(JSONValue.self, 0)
    }

    /// Appends a message and touches the conversation's `updated_at`; returns the message's id and JSON.
    public func addMessage(conversationID: UUID, role: String, content: String) throws -> (id: UUID, json: JSONValue) {
        try connection.execute("UPDATE conversations SET updated_at = now() WHERE id = $1", [conversationID])
        let row = try connection.query(
            """
            WITH m AS (INSERT INTO messages (conversation_id, role, content) VALUES ($1, $2, $3) RETURNING *)
            SELECT m.id, json_build_object('id', m.id, 'conversation_id', m.conversation_id, 'role', m.role,
                                           'content', m.content, 'created_at', m.created_at)
            FROM m
            """,
            [conversationID, role, content]).first!
        return (try row.decode(UUID.self, 0), try row.decode(JSONValue.self, 1))
    }
}
