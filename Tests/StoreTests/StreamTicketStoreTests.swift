import Foundation
import Postgres
import Store
import Testing
import TestSupport

/// `stream_tickets` (Migrations/0015): a ticket is redeemed once, knows when it expired, never
/// outlives its token, and old ones are purged.
@Suite(.dedicatedThreads) struct StreamTicketStoreTests {
    let connection: Connection
    let tickets: StreamTicketStore
    let userID: UUID

    init() throws {
        connection = try Connection(try TestDatabase.migrated())
        tickets = StreamTicketStore(connection)
        userID = try UserStore(connection).create(email: "tickets-\(UUID().uuidString.prefix(8))@example.org",
                                                 passwordHash: "pbkdf2-sha256$600000$c2FsdA$aGFzaA").id
    }

    static func hash(_ n: Int) -> String { String(repeating: String(n % 10), count: 64) }
    var now: Int64 { Int64(Date().timeIntervalSince1970) }

    @Test func aTicketIsRedeemedOnceWithWhatItWasIssuedFor() throws {
        let tokenExpiry = now + 3600
        let issued = try #require(try tickets.issue(hash: Self.hash(1), userID: userID, tokenVersion: 7, planID: nil,
                                                    tokenExpiresAt: tokenExpiry, lifetimeSeconds: 60))
        #expect(issued.expiresAt > now && issued.expiresAt <= now + 61)
        #expect(issued.lastEventID == 0)
        let redeemed = try #require(try tickets.redeem(hash: Self.hash(1)))
        #expect(redeemed == StreamTicketRecord(userID: userID, tokenVersion: 7, planID: nil, isUnexpired: true, tokenExpiresAt: tokenExpiry))
        #expect(try tickets.redeem(hash: Self.hash(1)) == nil)
        #expect(try tickets.redeem(hash: Self.hash(2)) == nil)
    }

    @Test func aTicketNeverOutlivesItsTokenAndAnExpiredOneSaysSo() throws {
        let soon = now + 5
        let issued = try #require(try tickets.issue(hash: Self.hash(3), userID: userID, tokenVersion: 1, planID: nil,
                                                    tokenExpiresAt: soon, lifetimeSeconds: 60))
        #expect(issued.expiresAt == soon)
        #expect(try tickets.issue(hash: Self.hash(4), userID: userID, tokenVersion: 1, planID: nil,
                                  tokenExpiresAt: now - 1, lifetimeSeconds: 60) == nil)

        try connection.execute("UPDATE stream_tickets SET created_at = now() - interval '30 seconds', expires_at = now() - interval '1 second' WHERE ticket_hash = $1",
                               [Self.hash(3)])
        let expired = try #require(try tickets.redeem(hash: Self.hash(3)))
        #expect(!expired.isUnexpired)
    }

    @Test func issuingPurgesTicketsExpiredAMinuteAgo() throws {
        _ = try tickets.issue(hash: Self.hash(5), userID: userID, tokenVersion: 1, planID: nil, tokenExpiresAt: now + 3600, lifetimeSeconds: 60)
        try connection.execute("UPDATE stream_tickets SET created_at = now() - interval '3 minutes', expires_at = now() - interval '2 minutes' WHERE ticket_hash = $1",
                               [Self.hash(5)])
        _ = try tickets.issue(hash: Self.hash(6), userID: userID, tokenVersion: 1, planID: nil, tokenExpiresAt: now + 3600, lifetimeSeconds: 60)
        #expect(try tickets.redeem(hash: Self.hash(5)) == nil)
        #expect(try tickets.redeem(hash: Self.hash(6)) != nil)
    }

    @Test func onlyHashesAreStored() throws {
        #expect(throws: PostgresError.self) {
            try tickets.issue(hash: "not a hash", userID: userID, tokenVersion: 1, planID: nil, tokenExpiresAt: now + 60, lifetimeSeconds: 60)
        }
    }
}
