import Foundation
import Postgres

/// A redeemed stream ticket: whose it was, for which stream, and until when it and the stream may last.
public struct StreamTicketRecord: Sendable, Equatable {
    public var userID: UUID
    /// The account's token version when the ticket was issued.
    public var tokenVersion: Int64
    /// The plan whose stream it opens; nil for the user's stream of all their plans.
    public var planID: UUID?
    /// False once the ticket's own short lifetime has passed (by the database's clock).
    public var isUnexpired: Bool
    /// Seconds since 1970 at which the access token the ticket was issued with expires: the stream ends then.
    public var tokenExpiresAt: Int64

    public init(userID: UUID, tokenVersion: Int64, planID: UUID?, isUnexpired: Bool, tokenExpiresAt: Int64) {
        self.userID = userID
        self.tokenVersion = tokenVersion
        self.planID = planID
        self.isUnexpired = isUnexpired
        self.tokenExpiresAt = tokenExpiresAt
    }
}

/// SQL for `stream_tickets` (Migrations/0015): single-use tickets that open one event stream, stored
/// only as SHA-256 hashes (the caller hashes; this type never sees a ticket).
public struct StreamTicketStore {
    public let connection: Connection

    public init(_ connection: Connection) { self.connection = connection }

    /// Stores a ticket's hash, valid for `lifetimeSeconds` but never beyond `tokenExpiresAt` (seconds
    /// since 1970), and purges tickets that expired a minute ago or more. Returns the ticket's expiry
    /// (seconds since 1970) and the id of the latest event of the stream it opens (the user's, or the
    /// plan's; 0 for none), where a client without a Last-Event-ID can start without a gap; nil when
    /// the token expires before the database's now.
    public func issue(hash: String, userID: UUID, tokenVersion: Int64, planID: UUID?, tokenExpiresAt: Int64,
                      lifetimeSeconds: Int) throws -> (expiresAt: Int64, lastEventID: Int64)? {
        guard let row = try connection.query(
            """
            WITH purged AS (DELETE FROM stream_tickets WHERE expires_at < now() - interval '1 minute')
            INSERT INTO stream_tickets (ticket_hash, user_id, token_version, plan_id, token_expires_at, expires_at)
            SELECT $1::text, $2::uuid, $3::bigint, $4::uuid, to_timestamp($5::bigint),
                   least(now() + make_interval(secs => $6::integer), to_timestamp($5::bigint))
            WHERE to_timestamp($5::bigint) > now()
            RETURNING floor(extract(epoch FROM expires_at))::bigint,
                      (SELECT coalesce(max(e.id), 0) FROM events e
                       WHERE e.owner_id = $2::uuid AND ($4::uuid IS NULL OR e.plan_id = $4::uuid))
            """,
            [hash, userID, tokenVersion, planID, tokenExpiresAt, lifetimeSeconds]).first else { return nil }
        return (try row.decode(Int64.self, 0), try row.decode(Int64.self, 1))
    }

    /// Takes the ticket with this hash out of the table — so that it opens at most one stream,
    /// whatever happens next — and returns what it was issued for; nil when there is none (never
    /// issued, already redeemed, or purged).
    public func redeem(hash: String) throws -> StreamTicketRecord? {
        try connection.query(
            """
            DELETE FROM stream_tickets WHERE ticket_hash = $1
            RETURNING user_id, token_version, plan_id, expires_at > clock_timestamp(),
                      floor(extract(epoch FROM token_expires_at))::bigint
            """,
            [hash]).first.map { row in
                StreamTicketRecord(userID: try row.decode(UUID.self, 0), tokenVersion: try row.decode(Int64.self, 1),
                                   planID: try row.decode(UUID?.self, 2), isUnexpired: try row.decode(Bool.self, 3),
                                   tokenExpiresAt: try row.decode(Int64.self, 4))
            }
    }
}
