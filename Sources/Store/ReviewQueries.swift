import Foundation
import JSON
import Postgres

/// The columns of a review that a resolution is decided from.
public struct ReviewRecord: Sendable, Equatable {
    public var id: UUID
    public var planID: UUID
    /// `atom` or `gate`.
    public var kind: String
    /// `reviews.status`, one of `ReviewStatus`'s raw values (or `waived`).
    public var status: String
    public var atomID: UUID?
    /// Whether it stops its wave, and whether that wave's Gate S has failed (it was evaluated and
    /// never passed): only such a review can be waived.
    public var blocking: Bool = false
    public var blocksFailedGate: Bool = false
}

/// SQL for the human review queue (`reviews`), always through the owner of the review's plan.
public struct ReviewQueries {
    public let connection: Connection

    public init(_ connection: Connection) { self.connection = connection }

    /// Whether the review's wave ran Gate S and it never passed (what makes a blocking review waivable).
    static let gateFailed = """
        (r.wave_id IS NOT NULL AND EXISTS (SELECT 1 FROM gate_results g WHERE g.wave_id = r.wave_id)
         AND NOT EXISTS (SELECT 1 FROM gate_results g WHERE g.wave_id = r.wave_id AND g.passed))
        """

    static let reviewJSON = """
        json_build_object('id', r.id, 'plan_id', r.plan_id, 'kind', r.kind, 'atom_id', r.atom_id,
            'task_number', (SELECT t.number FROM tasks t WHERE t.id = coalesce(r.task_id, (SELECT a.task_id FROM atoms a WHERE a.id = r.atom_id))),
            'file_path', (SELECT a.file_path FROM atoms a WHERE a.id = r.atom_id),
            'wave', (SELECT w.number FROM waves w WHERE w.id = r.wave_id),
            'confidence', r.confidence, 'reason', r.reason, 'priority', r.priority, 'ai_suggestions', r.ai_suggestions,
            'status', r.status, 'reviewer_id', r.reviewer_id, 'feedback', r.feedback, 'edited_content', r.edited_content,
            'waiver_reason', r.waiver_reason, 'blocking', r.blocking,
            'gate_failed', \(gateFailed),
            'created_at', r.created_at, 'updated_at', r.updated_at,
            'resolved_at', r.resolved_at)
        """

    /// The sort key of `list`: `created_at`, `id`.
    public static let listKey: [PageKeyKind] = [.timestamp, .uuid]

    /// The owner's reviews, oldest first (a queue), optionally one status's and one plan's.
    public func list(ownerID: UUID, status: String?, planID: UUID?, page: PageRequest) throws -> Page {
        let after = page.after(for: Self.listKey)
        let rows = try connection.query(
            """
            SELECT \(Self.reviewJSON), r.created_at::text, r.id::text
            FROM reviews r JOIN masterplans p ON p.id = r.plan_id
            WHERE p.owner_id = $1 AND ($2::text IS NULL OR r.status = $2) AND ($3::uuid IS NULL OR r.plan_id = $3)
              AND ($4::timestamptz IS NULL OR (r.created_at, r.id) > ($4::timestamptz, $5::uuid))
            ORDER BY r.created_at, r.id LIMIT $6
            """,
            [ownerID, status, planID, after?[0], after?[1], page.limit + 1]).rows
        return try Page.from(rows, limit: page.limit, keyColumns: 2)
    }

    /// The review's JSON, if its plan belongs to `ownerID`.
    public func review(id: UUID, ownerID: UUID) throws -> JSONValue? {
        try connection.query(
            "SELECT \(Self.reviewJSON) FROM reviews r JOIN masterplans p ON p.id = r.plan_id WHERE r.id = $1 AND p.owner_id = $2",
            [id, ownerID]).first?.decode(JSONValue.self, 0)
    }

    /// The review's decision columns, locked until the transaction ends, if its plan belongs to `ownerID`.
    public func lockReview(id: UUID, ownerID: UUID) throws -> ReviewRecord? {
        guard let row = try connection.query(
            """
            SELECT r.id, r.plan_id, r.kind, r.status, r.atom_id, r.blocking,
                   \(Self.gateFailed)
            FROM reviews r JOIN masterplans p ON p.id = r.plan_id
            WHERE r.id = $1 AND p.owner_id = $2 FOR UPDATE OF r
            """,
            [id, ownerID]).first else { return nil }
        return ReviewRecord(id: try row.decode(UUID.self, 0), planID: try row.decode(UUID.self, 1),
                            kind: try row.decode(String.self, 2), status: try row.decode(String.self, 3),
                            atomID: try row.decode(UUID?.self, 4), blocking: try row.decode(Bool.self, 5),
                            blocksFailedGate: try row.decode(Bool.self, 6))
    }

    /// Records a reviewer's resolution; the executor applies it to the workspace.
    public func resolve(id: UUID, status: String, reviewerID: UUID, feedback: String?, editedContent: String?,
                        waiverReason: String? = nil) throws {
        try connection.execute(
            """
            UPDATE reviews SET status = $2, reviewer_id = $3, feedback = $4, edited_content = $5, waiver_reason = $6,
                               resolved_at = now()
            WHERE id = $1
            """,
            [id, status, reviewerID, feedback, editedContent, waiverReason])
    }
}
