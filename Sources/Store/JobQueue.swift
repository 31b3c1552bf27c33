import Foundation
import JSON
import Postgres

/// What kind of work a job asks the executor for (`jobs.kind`).
public enum JobKind: String, Sendable, CaseIterable {
    case generation
    case execution
    case regeneration
    case suggestions
    case chat
}

/// A job that is already queued or running for the same subject (a plan's live execution or
/// generation, or the same `unique_key`); the caller decides whether that is a conflict.
public struct JobAlreadyLive: Error, Sendable, Equatable {
    public var kind: JobKind
    public var planID: UUID?
}

/// Puts work on the executor's queue (`jobs`). Enqueueing only: claiming, leases and completion are
/// the executor's. Every insert NOTIFYs `masterplan_jobs` through the table's trigger, at commit.
public struct JobQueue {
    public let connection: Connection

    public init(_ connection: Connection) { self.connection = connection }

    /// Inserts a queued job and returns its id. Throws `JobAlreadyLive` when the schema's uniqueness
    /// rules refuse a second live job (one live execution and one live (re)generation per plan, one
    /// live job per `uniqueKey`).
    ///
    /// Inside a transaction the refusal rolls back the whole transaction, so call it last or in a
    /// nested transaction (savepoint) when the caller wants to go on.
    public func enqueue(_ kind: JobKind, planID: UUID? = nil, conversationID: UUID? = nil,
                        payload: JSONObject = [:], uniqueKey: String? = nil) throws -> UUID {
        let outcome = Result { () throws(PostgresError) -> UUID in
            try connection.query(
                """
                INSERT INTO jobs (kind, plan_id, conversation_id, payload, unique_key)
                VALUES ($1, $2, $3, $4, $5) RETURNING id
                """,
                [kind.rawValue, planID, conversationID, JSONValue.object(payload), uniqueKey]).first!.decode(UUID.self, 0)
        }
        // A Result rather than `catch … where`: that form crashes the Swift 6.3.1 compiler here.
        if case .failure(let error) = outcome, error.sqlState == .uniqueViolation {
            throw JobAlreadyLive(kind: kind, planID: planID)
        }
        return try outcome.get()
    }

    /// The plan's live (queued or running) execution job, enqueueing one if there is none; returns
    /// its id and whether it is new. Used when a human's action (a resolved review) gives a running
    /// or waiting plan more work.
    public func ensureExecution(planID: UUID, payload: JSONObject = [:]) throws -> (id: UUID, isNew: Bool) {
        let inserted = try connection.query(
            """
            INSERT INTO jobs (kind, plan_id, payload) VALUES ('execution', $1, $2)
            ON CONFLICT (plan_id) WHERE kind = 'execution' AND state IN ('queued', 'running') DO NOTHING
            RETURNING id
            """,
            [planID, JSONValue.object(payload)])
        if let row = inserted.first { return (try row.decode(UUID.self, 0), true) }
        let live = try connection.query(
            "SELECT id FROM jobs WHERE plan_id = $1 AND kind = 'execution' AND state IN ('queued', 'running')", [planID])
        guard let row = live.first else {
            // The live job finished between the two statements: try once more.
            return try ensureExecution(planID: planID, payload: payload)
        }
        return (try row.decode(UUID.self, 0), false)
    }

    /// Cancels the plan's jobs that no executor has claimed yet; returns how many. Running jobs are
    /// left to their executor, which sees the plan's status.
    @discardableResult
    public func cancelQueued(planID: UUID) throws -> Int {
        try connection.execute(
            "UPDATE jobs SET state = 'cancelled', finished_at = now() WHERE plan_id = $1 AND state = 'queued'", [planID])
    }
}
