import Foundation
import JSON
import Postgres

/// One row of `events`, with its JSON as the browser receives it.
public struct FeedEvent: Sendable, Equatable {
    public var id: Int64
    public var ownerID: UUID
    public var planID: UUID?
    public var type: String
    /// `{"id":…,"plan_id":…,"type":…,"created_at":…,"data":{…}}`, built by PostgreSQL.
    public var json: String

    public init(id: Int64, ownerID: UUID, planID: UUID?, type: String, json: String) {
        self.id = id
        self.ownerID = ownerID
        self.planID = planID
        self.type = type
        self.json = json
    }
}

/// Reads and writes the progress feed (`events`): the SSE relay's replay and live reads, and the
/// API's own events (status changes, chat messages).
public struct EventFeed {
    public let connection: Connection

    public init(_ connection: Connection) { self.connection = connection }

    /// The NOTIFY channel `masterplan_emit_event` signals on; the payload is the event id.
    public static let channel = "masterplan_events"

    /// Inserts `event` and NOTIFYs its id through `masterplan_emit_event`, which must be the last
    /// statement of the caller's transaction (it takes the lock that keeps ids in commit order).
    /// Returns the event's id.
    @discardableResult
    public func emit(_ event: ProgressEvent, ownerID: UUID? = nil, planID: UUID? = nil, conversationID: UUID? = nil) throws -> Int64 {
        try emit(type: event.kind.rawValue, ownerID: ownerID, planID: planID, conversationID: conversationID, data: event.payload)
    }

    /// The statement `emit(_:ownerID:planID:conversationID:)` runs, for the end of a
    /// `Connection.pipeline` (its result is the event id).
    public static func emission(_ event: ProgressEvent, ownerID: UUID? = nil, planID: UUID? = nil,
                                conversationID: UUID? = nil) -> PipelinedStatement {
        emission(type: event.kind.rawValue, ownerID: ownerID, planID: planID, conversationID: conversationID, data: event.payload)
    }

    /// `emit(_:ownerID:planID:conversationID:)` for a name and payload built by hand. The product emits
    /// only `ProgressEvent`s; this is for benches and test fixtures that store rows of a given shape
    /// (the database still refuses a name outside the catalogue).
    @discardableResult
    public func emit(type: String, ownerID: UUID? = nil, planID: UUID? = nil, conversationID: UUID? = nil,
                     data: JSONObject = [:]) throws -> Int64 {
        let statement = Self.emission(type: type, ownerID: ownerID, planID: planID, conversationID: conversationID, data: data)
        return try connection.query(statement.sql, statement.parameters).first!.decode(Int64.self, 0)
    }

    /// The statement `emit` runs, for the end of a `Connection.pipeline` (its result is the event id).
    public static func emission(type: String, ownerID: UUID? = nil, planID: UUID? = nil, conversationID: UUID? = nil,
                                data: JSONObject = [:]) -> PipelinedStatement {
        PipelinedStatement("SELECT masterplan_emit_event($1, $2, $3, $4, $5)", [ownerID, planID, conversationID, type, JSONValue.object(data)])
    }

    static let select = """
        SELECT id, owner_id, plan_id, type,
               json_build_object('id', id, 'plan_id', plan_id, 'type', type, 'created_at', created_at,
                                 'data', payload)::text
        FROM events
        """

    static func event(_ row: Row) throws -> FeedEvent {
        FeedEvent(id: try row.decode(Int64.self, 0), ownerID: try row.decode(UUID.self, 1),
                  planID: try row.decode(UUID?.self, 2), type: try row.decode(String.self, 3),
                  json: try row.decode(String.self, 4))
    }

    /// Every user's events with an id above `id`, in id order, at most `limit` (the relay's live read).
    public func events(after id: Int64, limit: Int) throws -> [FeedEvent] {
        try connection.query("\(Self.select) WHERE id > $1 ORDER BY id LIMIT $2", [id, limit]).rows.map(Self.event)
    }

    /// One owner's events above `id` (all of them, or one plan's), in id order: a stream's replay
    /// after `Last-Event-ID`.
    public func events(after id: Int64, ownerID: UUID, planID: UUID?, limit: Int) throws -> [FeedEvent] {
        if let planID {
            return try connection.query(
                "\(Self.select) WHERE plan_id = $1 AND owner_id = $2 AND id > $3 ORDER BY id LIMIT $4",
                [planID, ownerID, id, limit]).rows.map(Self.event)
        }
        return try connection.query("\(Self.select) WHERE owner_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                                    [ownerID, id, limit]).rows.map(Self.event)
    }

    /// The highest event id so far (0 for none): where a relay that just started LISTENing begins.
    public func latestID() throws -> Int64 {
        try connection.query("SELECT coalesce(max(id), 0) FROM events").first!.decode(Int64.self, 0)
    }
}
