import Base
import Foundation
import JSON
import Postgres

/// A job an executor holds under a lease.
public struct ClaimedJob: Sendable, Equatable {
    public var id: UUID
    public var kind: String
    public var planID: UUID?
    public var conversationID: UUID?
    public var payload: JSONValue
    /// Claims so far, this one included.
    public var attempts: Int
    public var maxAttempts: Int
    public var leaseExpiresAt: Date
}

/// A job that failed for good: what its handler needs to say so where the user looks.
public struct FailedJob: Sendable, Equatable {
    public var id: UUID
    public var kind: String
    public var planID: UUID?
    public var conversationID: UUID?
    /// Claims made, all of them.
    public var attempts: Int
    public var lastError: String

    public init(id: UUID, kind: String, planID: UUID?, conversationID: UUID?, attempts: Int, lastError: String) {
        self.id = id
        self.kind = kind
        self.planID = planID
        self.conversationID = conversationID
        self.attempts = attempts
        self.lastError = lastError
    }
}

/// A job whose expired lease was taken back: `state` is `queued` (it runs again) or `failed`.
public struct ReclaimedJob: Sendable, Equatable {
    public var job: FailedJob
    public var state: String
}

/// The executor's side of the `jobs` table: claim, renew, finish, fail, and take over jobs whose
/// executor stopped renewing. PostgreSQL is the only coordinator, so any number of executors on any
/// number of machines can share one database.
///
/// Every call that changes a held job names the lease owner; a call by an executor that lost its
/// lease (it was too slow to renew and another executor took the job) changes nothing and says so.
public struct JobClaims: Sendable {
    /// Identifies this executor in `jobs.lease_owner` (host:pid:random).
    public let owner: String
    /// How long a claim or renewal holds a job without another renewal.
    public let lease: Duration

    public init(owner: String, lease: Duration = .seconds(30)) {
        self.owner = owner
        self.lease = lease
    }

    /// A lease owner name for this process: `host:pid:8 random hex digits`.
    public static func processOwnerName() -> String {
        let host = ProcessInfo.processInfo.hostName
        return "\(host):\(getpid()):\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    var leaseSeconds: Double {
        lease.inSeconds
    }

    /// Claims the next queued job that is due, or returns nil. One statement: the row is locked with
    /// `FOR UPDATE SKIP LOCKED`, so two executors never claim the same job.
    public func claimNext(on connection: Connection, kinds: [String]? = nil) throws -> ClaimedJob? {
        let result = try connection.query("""
            WITH next AS (
                SELECT id FROM jobs
                WHERE state = 'queued' AND run_after <= now() AND ($3::text[] IS NULL OR kind = ANY($3::text[]))
                ORDER BY run_after, created_at
                LIMIT 1
                FOR UPDATE SKIP LOCKED
            )
            UPDATE jobs j
            SET state = 'running', attempts = j.attempts + 1, lease_owner = $1,
                lease_expires_at = now() + make_interval(secs => $2), started_at = coalesce(j.started_at, now()),
                last_error = NULL
            FROM next WHERE j.id = next.id
            RETURNING j.id, j.kind, j.plan_id, j.conversation_id, j.payload, j.attempts, j.max_attempts, j.lease_expires_at
            """, [owner, leaseSeconds, kinds])
        return try result.first.map(Self.job(from:))
    }

    /// Extends the lease of a held job. Returns false when this executor no longer holds it.
    public func renew(_ jobID: UUID, on connection: Connection) throws -> Bool {
        try connection.execute("""
            UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3)
            WHERE id = $1 AND state = 'running' AND lease_owner = $2
            """, [jobID, owner, leaseSeconds]) == 1
    }

    /// Marks a held job done. Returns false when this executor no longer holds it.
    public func complete(_ jobID: UUID, on connection: Connection) throws -> Bool {
        try connection.execute("""
            UPDATE jobs SET state = 'done', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL
            WHERE id = $1 AND state = 'running' AND lease_owner = $2
            """, [jobID, owner]) == 1
    }

    /// Records a failed attempt: the job is queued again after `retryAfter` while attempts remain,
    /// else it fails for good. Returns the job's new state, or nil when this executor no longer holds it.
    public func fail(_ jobID: UUID, error: String, retryAfter: Duration = .seconds(5), on connection: Connection) throws -> String? {
        let delay = retryAfter.inSeconds
        return try connection.query("""
            UPDATE jobs SET
                state = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END,
                run_after = CASE WHEN attempts < max_attempts THEN now() + make_interval(secs => $4) ELSE run_after END,
                finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE now() END,
                last_error = $3, lease_owner = NULL, lease_expires_at = NULL
            WHERE id = $1 AND state = 'running' AND lease_owner = $2
            RETURNING state
            """, [jobID, owner, String(error.prefix(4000)), delay]).first?.decode(String.self, 0)
    }

    /// Hands a held job back unfinished (the executor is stopping): queued again at once, and the
    /// claim does not count as an attempt. Returns false when this executor no longer holds it.
    public func release(_ jobID: UUID, on connection: Connection) throws -> Bool {
        try connection.execute("""
            UPDATE jobs SET state = 'queued', attempts = greatest(attempts - 1, 0), run_after = now(),
                   lease_owner = NULL, lease_expires_at = NULL
            WHERE id = $1 AND state = 'running' AND lease_owner = $2
            """, [jobID, owner]) == 1
    }

    /// Takes back jobs whose lease expired (their executor died or hung): queued again while attempts
    /// remain, failed otherwise. Any executor may call this; `sparing` names jobs the caller itself is
    /// running (their renewer will renew them once the database answers again: a lease that lapsed
    /// during a database outage is not a dead executor). Returns the jobs it touched, with their new
    /// state.
    @discardableResult
    public static func reclaimExpired(on connection: Connection, sparing: [UUID] = []) throws -> [ReclaimedJob] {
        try connection.query("""
            UPDATE jobs SET
                state = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END,
                finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE now() END,
                last_error = 'lease of ' || coalesce(lease_owner, '?') || ' expired'
                    || CASE WHEN attempts < max_attempts THEN '' ELSE ' after its last attempt' END,
                lease_owner = NULL, lease_expires_at = NULL
            WHERE state = 'running' AND lease_expires_at < now() AND NOT (id::text = ANY($1::text[]))
            RETURNING id, kind, plan_id, conversation_id, state, attempts, last_error
            """, [sparing.map { $0.uuidString.lowercased() }]).rows.map { row in
            ReclaimedJob(job: FailedJob(id: try row.decode(UUID.self, "id"), kind: try row.decode(String.self, "kind"),
                                        planID: try row.decode(UUID?.self, "plan_id"),
                                        conversationID: try row.decode(UUID?.self, "conversation_id"),
                                        attempts: try row.decode(Int.self, "attempts"),
                                        lastError: try row.decode(String?.self, "last_error") ?? ""),
                         state: try row.decode(String.self, "state"))
        }
    }

    static func job(from row: Row) throws -> ClaimedJob {
        ClaimedJob(id: try row.decode(UUID.self, "id"), kind: try row.decode(String.self, "kind"),
                   planID: try row.decode(UUID?.self, "plan_id"), conversationID: try row.decode(UUID?.self, "conversation_id"),
                   payload: try row.decode(JSONValue.self, "payload"), attempts: try row.decode(Int.self, "attempts"),
                   maxAttempts: try row.decode(Int.self, "max_attempts"), leaseExpiresAt: try row.decode(Date.self, "lease_expires_at"))
    }
}
