import Postgres

/// A login attempt that was let through to its password check, recorded as failed until
/// `LoginThrottleStore.succeeded(_:)` says otherwise (`failed(_:)` stamps the time of its 401).
public struct LoginAttempt: Sendable, Equatable {
    /// The `login_attempts` row.
    public var id: Int64
    /// The account it counts against: the lower-cased email.
    public var account: String
}

/// What a login may do now.
public enum LoginAdmission: Sendable, Equatable {
    /// Check the password; the attempt already counts as a failure.
    case admitted(LoginAttempt)
    /// Answer 429 without checking anything.
    case refused(retryAfterSeconds: Int)
}

/// SQL of `login_attempts` (Migrations/0016_login_throttle.sql): the failed logins every API worker
/// counts, so that a flood of guesses is refused before the password hash runs, whichever worker
/// (or URL form, or nginx or none) it arrives through.
public struct LoginThrottleStore {
    public let connection: Connection
    public let policy: LoginThrottlePolicy

    public init(_ connection: Connection, policy: LoginThrottlePolicy) {
        self.connection = connection
        self.policy = policy
    }

    /// Rows older than the window that one admitted attempt deletes, at most.
    static let cleanupBatch = 100

    /// Decides whether a login for `email` from `address` (REMOTE_ADDR) may check its password. An
    /// admitted attempt is written as a failure before the check runs, under per-account and
    /// per-address advisory locks, so concurrent attempts on the same key see it and the limit
    /// holds across workers; a refused one writes nothing.
    public func begin(email: String, address: String) throws -> LoginAdmission {
        try connection.transaction { db in
            let keys = try db.query("SELECT lower($1), masterplan_login_address_key($2)", [email, address]).first!
            let account = try keys.decode(String.self, 0)
            let addressKey = try keys.decode(String.self, 1)
            // Account first, then address, in every transaction: no two can wait for each other.
            try db.query("SELECT pg_advisory_xact_lock(19793, hashtext($1))", [account])
            try db.query("SELECT pg_advisory_xact_lock(19794, hashtext($1))", [addressKey])
            let counts = try db.query(
                """
                WITH account AS (
                    SELECT count(*) AS failures, extract(epoch FROM clock_timestamp() - max(attempted_at))::float8 AS since
                    FROM login_attempts WHERE account = $1 AND attempted_at > clock_timestamp() - $3::integer * interval '1 second'
                ), address AS (
                    SELECT count(*) AS failures, extract(epoch FROM clock_timestamp() - max(attempted_at))::float8 AS since
                    FROM login_attempts WHERE address = $2 AND attempted_at > clock_timestamp() - $3::integer * interval '1 second'
                )
                SELECT account.failures, account.since, address.failures, address.since FROM account, address
                """, [account, addressKey, policy.windowSeconds]).first!
            let decision = policy.decide(
                account: LoginFailures(count: try counts.decode(Int.self, 0), secondsSinceLatest: try counts.decode(Double?.self, 1)),
                address: LoginFailures(count: try counts.decode(Int.self, 2), secondsSinceLatest: try counts.decode(Double?.self, 3)))
            if case .refused(let seconds) = decision { return .refused(retryAfterSeconds: seconds) }
            let results = try db.pipeline([
                PipelinedStatement("INSERT INTO login_attempts (account, address, attempted_at) VALUES ($1, $2, clock_timestamp()) RETURNING id",
                                   [account, addressKey]),
                PipelinedStatement(
                    """
                    DELETE FROM login_attempts WHERE id IN (
                        SELECT id FROM login_attempts WHERE attempted_at <= clock_timestamp() - $1::integer * interval '1 second'
                        ORDER BY attempted_at LIMIT $2 FOR UPDATE SKIP LOCKED)
                    """, [policy.windowSeconds, Self.cleanupBatch]),
            ])
            return .admitted(LoginAttempt(id: try results[0].first!.decode(Int64.self, 0), account: account))
        }
    }

    /// The attempt failed: its time becomes the time of the answer, so the wait that may follow
    /// runs from the 401 the client saw, however long the password check took.
    public func failed(_ attempt: LoginAttempt) throws {
        try connection.query("UPDATE login_attempts SET attempted_at = clock_timestamp() WHERE id = $1", [attempt.id])
    }

    /// The attempt's password was right: it was no failure, and the account's failures are
    /// forgiven (they still count for the addresses they came from).
    public func succeeded(_ attempt: LoginAttempt) throws {
        try connection.pipeline([
            PipelinedStatement("DELETE FROM login_attempts WHERE id = $1", [attempt.id]),
            PipelinedStatement("UPDATE login_attempts SET account = NULL WHERE account = $1", [attempt.account]),
        ])
    }
}
