import Foundation
import JSON
import Postgres

/// A user account as the API and the `user` commands see it (never with its password hash).
public struct UserRecord: Sendable, Equatable {
    public var id: UUID
    public var email: String
    /// `admin` or `member`.
    public var role: String
    public var displayName: String?
    public var isDisabled: Bool
    public var createdAt: Date
    /// The version every access token of the account must carry (`users.token_version`); raised by
    /// the database whenever the password or role changes or the account is disabled.
    public var tokenVersion: Int64

    /// True for the `admin` role (see the README's role table for what it allows).
    public var isAdmin: Bool { role == "admin" }

    /// The `GET /me` and `GET /users` representation (without the token version, which only tokens carry).
    public var jsonValue: JSONValue {
        .object([
            "id": .string(id.uuidString.lowercased()),
            "email": .string(email),
            "role": .string(role),
            "display_name": JSONValue(displayName),
            "disabled": .bool(isDisabled),
            "created_at": .string(PostgresTimestampText.iso8601(createdAt)),
        ])
    }
}

/// Why a user could not be created or changed.
public struct UserStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Another account has this email (compared without regard to case).
        case emailTaken
        /// The email is not `local@domain` without spaces, or is longer than 320 characters.
        case invalidEmail
        /// The role is not `admin` or `member`.
        case invalidRole
        /// No account has this email.
        case notFound
    }

    public var kind: Kind
    public var email: String

    public var description: String {
        switch kind {
        case .emailTaken: return "a user with the email \(email) already exists"
        case .invalidEmail: return "\(email) is not an email address of the form name@domain (no spaces, at most 320 characters)"
        case .invalidRole: return "the role must be admin or member"
        case .notFound: return "no user has the email \(email)"
        }
    }
}

/// One token version of one account: what an open event stream was authenticated with.
public struct AccountVersion: Sendable, Hashable {
    public var userID: UUID
    public var tokenVersion: Int64

    public init(userID: UUID, tokenVersion: Int64) {
        self.userID = userID
        self.tokenVersion = tokenVersion
    }
}

/// SQL for `users`: accounts, their password hashes, and look-ups by email or id.
///
/// Every change of a password or role and every disable raises the account's `token_version` in
/// the database itself (trigger `users_end_tokens`, Migrations/0015) and notifies
/// `accessChannel`, so no caller can change an account and forget to end its tokens.
public struct UserStore {
    public let connection: Connection

    public init(_ connection: Connection) { self.connection = connection }

    /// The NOTIFY channel on which the id of a user whose token version or disabled state changed
    /// arrives (trigger `users_notify_access`).
    public static let accessChannel = "masterplan_users"

    /// The shortest password accepted, from the command line or the API.
    public static let minimumPasswordLength = 8

    static let columns = "id, email, role, display_name, disabled_at IS NOT NULL, created_at, token_version"

    static func record(_ row: Row) throws -> UserRecord {
        UserRecord(id: try row.decode(UUID.self, 0), email: try row.decode(String.self, 1),
                   role: try row.decode(String.self, 2), displayName: try row.decode(String?.self, 3),
                   isDisabled: try row.decode(Bool.self, 4), createdAt: try row.decode(Date.self, 5),
                   tokenVersion: try row.decode(Int64.self, 6))
    }

    /// Adds an account. `passwordHash` is a self-describing hash (never a password).
    public func create(email: String, passwordHash: String, role: String = "member",
                       displayName: String? = nil) throws -> UserRecord {
        guard role == "admin" || role == "member" else { throw UserStoreError(kind: .invalidRole, email: email) }
        let outcome = Result { () throws(PostgresError) -> QueryResult in
            try connection.query(
                "INSERT INTO users (email, password_hash, role, display_name) VALUES ($1, $2, $3, $4) RETURNING \(Self.columns)",
                [email, passwordHash, role, displayName])
        }
        // A Result rather than `catch … where`: that form crashes the Swift 6.3.1 compiler.
        if case .failure(let error) = outcome {
            if error.sqlState == .uniqueViolation { throw UserStoreError(kind: .emailTaken, email: email) }
            if error.constraint == "users_email_format_check" { throw UserStoreError(kind: .invalidEmail, email: email) }
        }
        return try Self.record(try outcome.get().first!)
    }

    /// The account and its password hash for a login, found by email without regard to case.
    public func credentials(email: String) throws -> (user: UserRecord, passwordHash: String)? {
        let result = try connection.query(
            "SELECT \(Self.columns), password_hash FROM users WHERE lower(email) = lower($1)", [email])
        guard let row = result.first else { return nil }
        return (try Self.record(row), try row.decode(String.self, 7))
    }

    /// The account with this id, if any (every API request asks; the connection prepares it).
    public func user(id: UUID) throws -> UserRecord? {
        try connection.query("SELECT \(Self.columns) FROM users WHERE id = $1", [id]).first.map(Self.record)
    }

    /// Every account, oldest first.
    public func list() throws -> [UserRecord] {
        try connection.query("SELECT \(Self.columns) FROM users ORDER BY created_at, email").rows.map(Self.record)
    }

    /// The sort key of `list`: `created_at`, `id`.
    public static let listKey: [PageKeyKind] = [.timestamp, .uuid]

    /// One page of every account, oldest first, as `UserRecord.jsonValue` shapes them (`GET /users`).
    public func list(page: PageRequest) throws -> Page {
        let after = page.after(for: Self.listKey)
        let rows = try connection.query(
            """
            SELECT json_build_object('id', id, 'email', email, 'role', role, 'display_name', display_name,
                                     'disabled', disabled_at IS NOT NULL, 'created_at', created_at),
                   created_at::text, id::text
            FROM users
            WHERE $1::timestamptz IS NULL OR (created_at, id) > ($1::timestamptz, $2::uuid)
            ORDER BY created_at, id LIMIT $3
            """,
            [after?[0], after?[1], page.limit + 1]).rows
        return try Page.from(rows, limit: page.limit, keyColumns: 2)
    }

    /// Replaces the password hash of the account with this email; every token of the account ends.
    public func setPasswordHash(email: String, passwordHash: String) throws {
        let changed = try connection.execute("UPDATE users SET password_hash = $2 WHERE lower(email) = lower($1)",
                                             [email, passwordHash])
        if changed == 0 { throw UserStoreError(kind: .notFound, email: email) }
    }

    /// Replaces the password hash of the account with this id; every token of the account ends.
    /// Nil when no account has the id.
    public func setPasswordHash(id: UUID, passwordHash: String) throws -> UserRecord? {
        try connection.query("UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING \(Self.columns)",
                             [id, passwordHash]).first.map(Self.record)
    }

    /// Disables or enables the account with this email. Disabling ends every token and open event
    /// stream of the account; enabling lets it log in again (its old tokens stay dead). `changed` is
    /// false when the account already was in that state (a disabled account keeps its date).
    public func setDisabled(email: String, _ disabled: Bool) throws -> (user: UserRecord, changed: Bool) {
        guard let row = try connection.query(Self.setDisabledSQL(where: "lower(email) = lower($1)"), [email, disabled]).first else {
            throw UserStoreError(kind: .notFound, email: email)
        }
        return (try Self.record(row), try row.decode(Bool.self, 7))
    }

    /// `setDisabled(email:_:)` for the account with this id; nil when there is none.
    public func setDisabled(id: UUID, _ disabled: Bool) throws -> (user: UserRecord, changed: Bool)? {
        guard let row = try connection.query(Self.setDisabledSQL(where: "id = $1"), [id, disabled]).first else { return nil }
        return (try Self.record(row), try row.decode(Bool.self, 7))
    }

    /// One statement: the row as it is afterwards, and whether the state changed (column 7).
    private static func setDisabledSQL(where condition: String) -> String {
        """
        WITH old AS (SELECT id AS old_id, disabled_at IS NOT NULL AS was_disabled FROM users WHERE \(condition) FOR UPDATE)
        UPDATE users SET disabled_at = CASE WHEN $2::boolean THEN coalesce(disabled_at, now()) END
        FROM old WHERE id = old.old_id
        RETURNING \(columns), old.was_disabled <> $2::boolean
        """
    }

    /// Of the given account versions, those no longer accepted: the account is gone, disabled, or
    /// at another token version (the SSE relay's check of its open streams).
    public func revoked(_ versions: Set<AccountVersion>) throws -> Set<AccountVersion> {
        guard !versions.isEmpty else { return [] }
        let list = Array(versions)
        let rows = try connection.query(
            """
            SELECT s.user_id, s.version
            FROM unnest($1::text[]::uuid[], $2::text[]::bigint[]) AS s (user_id, version)
            LEFT JOIN users u ON u.id = s.user_id
            WHERE u.id IS NULL OR u.disabled_at IS NOT NULL OR u.token_version <> s.version
            """,
            [list.map { $0.userID.uuidString.lowercased() }, list.map { String($0.tokenVersion) }]).rows
        return Set(try rows.map { AccountVersion(userID: try $0.decode(UUID.self, 0), tokenVersion: try $0.decode(Int64.self, 1)) })
    }
}

/// Timestamps in the form PostgreSQL's `to_json(timestamptz)` writes them (UTC), so values built in
/// Swift and in SQL look alike in API responses.
public enum PostgresTimestampText {
    /// `2026-11-25T08:02:45.123456+00:00`.
    public static func iso8601(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 { fraction += 1_000_000; seconds -= 1 }
        var time = tm()
        var t = time_t(seconds)
        gmtime_r(&t, &time)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(Int(time.tm_year) + 1900, 4))-\(pad(Int(time.tm_mon) + 1, 2))-\(pad(Int(time.tm_mday), 2))T"
            + "\(pad(Int(time.tm_hour), 2)):\(pad(Int(time.tm_min), 2)):\(pad(Int(time.tm_sec), 2)).\(pad(Int(fraction), 6))+00:00"
    }
}
