import Foundation
import Postgres
import Store
import TestSupport
import Testing

@Suite struct PreparedQueryTests {
    static let query = PreparedQuery(name: "test_user_email", parameterTypes: ["uuid"], sql: "SELECT email FROM users WHERE id = $1")

    func userWithConnection() throws -> (Connection, UUID) {
        let db = try Connection(try TestDatabase.migrated())
        let id = try UserStore(db).create(email: "prepared@example.org", passwordHash: "pbkdf2-sha256$1$x$y").id
        return (db, id)
    }

    @Test func preparesOnFirstUseAndAgainAfterTheSessionForgot() throws {
        let (db, id) = try userWithConnection()
        #expect(try Self.query.run(on: db, [id]).first?.decode(String.self, 0) == "prepared@example.org")
        #expect(try db.query("SELECT count(*) FROM pg_prepared_statements WHERE name = 'test_user_email'").first?.decode(Int.self, 0) == 1)
        #expect(try Self.query.run(on: db, [UUID()]).isEmpty)
        try db.simpleQuery("DEALLOCATE ALL")
        #expect(try Self.query.run(on: db, [id]).first?.decode(String.self, 0) == "prepared@example.org")
    }

    @Test func insideATransactionRunsThePlainStatementWithoutAbortingIt() throws {
        let (db, id) = try userWithConnection()
        try db.transaction { db in
            #expect(try Self.query.run(on: db, [id]).first?.decode(String.self, 0) == "prepared@example.org")
            try db.query("SELECT 1")
        }
        #expect(try db.query("SELECT count(*) FROM pg_prepared_statements").first?.decode(Int.self, 0) == 0)
    }
}
