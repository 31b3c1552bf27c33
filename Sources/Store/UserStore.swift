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

    /// The `GET /me` representation.
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

/// SQL for `users`: accounts, their password hashes, and look-ups by email or id.
public struct UserStore {
    public let connection: Connection

    public init(_ connection: Connection) { self.connection = connection }

    static let columns = "id, email, role, display_name, disabled_at IS NOT NULL, created_at"

    static func record(_ row: Row) throws -> UserRecord {
        UserRecord(id: try row.decode(UUID.self, 0), email: try row.decode(String.self, 1),
                   role: try row.decode(String.self, 2), displayName: try row.decode(String?.self, 3),
                   isDisabled: try row.decode(Bool.self, 4), createdAt: try row.decode(Date.self, 5))
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
        return (try Self.record(row), try row.decode(String.self, 6))
    }

    /// The account with this id, if any (every API request asks; the connection prepares it).
    public func user(id: UUID) throws -> UserRecord? {
        try connection.query("SELECT \(Self.columns) FROM users WHERE id = $1", [id]).first.map(Self.record)
    }

    /// Every account, oldest first.
    public func list() throws -> [UserRecord] {
        try connection.query("SELECT \(Self.columns) FROM users ORDER BY created_at, email").rows.map(Self.record)
    }

    /// Replaces the password hash of the account with this email.
    public func setPasswordHash(email: String, passwordHash: String) throws {
        let changed = try connection.execute("UPDATE users SET password_hash = $2 WHERE lower(email) = lower($1)",
                                             [email, passwordHash])
        if changed == 0 { throw UserStoreError(kind: .notFound, email: email) }
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
