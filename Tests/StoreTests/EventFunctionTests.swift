import Foundation
import JSON
import Postgres
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct EventFunctionTests {
    @Test func emittedEventNotifiesItsIdOnlyWhenCommitted() throws {
        let conninfo = try TestDatabase.migrated()
        let listener = try Connection(conninfo)
        let writer = try Connection(conninfo)
        try listener.listen("masterplan_events")
        let owner = try writer.query(
            "INSERT INTO users (email, password_hash, role) VALUES ($1, $2, 'member') RETURNING id",
            ["owner@example.com", "pbkdf2-sha256$600000$c2FsdA$aGFzaA"]).first!.decode(UUID.self, 0)

        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try writer.transaction { c in
                try c.query("SELECT masterplan_emit_event($1, NULL, NULL, 'chat_message', $2)", [owner, JSONValue(["text": "lost"])])
                throw Abort()
            }
        }
        let id = try writer.transaction { c in
            try c.query("SELECT masterplan_emit_event($1, NULL, NULL, 'chat_message', $2)", [owner, JSONValue(["text": "kept"])])
                .first!.decode(Int64.self, 0)
        }
        let received = try listener.waitForNotifications(timeout: .seconds(5))
        #expect(received.map(\.payload) == [String(id)])
        #expect(try listener.waitForNotifications(timeout: .milliseconds(300)).isEmpty)

        let rows = try writer.query("SELECT id, type, payload FROM events").rows
        #expect(rows.count == 1)
        #expect(try rows[0].decode(Int64.self, "id") == id)
        #expect(try rows[0].decode(JSONValue.self, "payload") == ["text": "kept"])
    }

    @Test func unknownEventTypesAreRefused() throws {
        let connection = try Connection(try TestDatabase.migrated())
        let owner = try connection.query(
            "INSERT INTO users (email, password_hash, role) VALUES ($1, $2, 'member') RETURNING id",
            ["x@example.com", "pbkdf2-sha256$600000$c2FsdA$aGFzaA"]).first!.decode(UUID.self, 0)
        do {
            try connection.query("SELECT masterplan_emit_event($1, NULL, NULL, 'made_up_event', '{}'::jsonb)", [owner])
            Issue.record("unknown event type accepted")
        } catch {
            #expect(error.sqlState == .foreignKeyViolation || error.sqlState == .checkViolation || error.sqlState == .raiseException)
        }
    }
}
