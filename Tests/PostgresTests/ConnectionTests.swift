import Foundation
import JSON
import Postgres
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct ConnectionTests {
    let connection: Connection

    init() throws {
        connection = try Connection(try TestDatabase.empty())
    }

    @Test func decodesEveryColumnType() throws {
        let row = try connection.query("""
            SELECT 'héllo'::text, 42::int4, 9007199254740993::int8, true, false, 2.5::float8,
                   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '2026-11-25 08:02:45.123456+00'::timestamptz,
                   '{"a": [1, 2.5, null], "b": "x"}'::jsonb, ARRAY['x', 'y z', 'q"uote', 'back\\slash', '', 'NULL']::text[],
                   NULL::text, 0.1234::numeric(10,4)
            """).first!
        #expect(try row.decode(String.self, 0) == "héllo")
        #expect(try row.decode(Int.self, 1) == 42)
        #expect(try row.decode(Int64.self, 2) == 9_007_199_254_740_993)
        #expect(try row.decode(Bool.self, 3) == true)
        #expect(try row.decode(Bool.self, 4) == false)
        #expect(try row.decode(Double.self, 5) == 2.5)
        #expect(try row.decode(UUID.self, 6) == UUID(uuidString: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
        let date = try row.decode(Date.self, 7)
        #expect(abs(date.timeIntervalSince1970 - 1_795_593_765.123456) < 0.000_001)
        #expect(try row.decode(JSONValue.self, 8) == ["a": [1, 2.5, nil], "b": "x"])
        #expect(try row.decode([String].self, 9) == ["x", "y z", "q\"uote", "back\\slash", "", "NULL"])
        #expect(try row.decode(String?.self, 10) == nil)
        #expect(row.isNull(10))
        #expect(try row.decode(Double.self, 11) == 0.1234)
    }

    @Test func decodingByColumnName() throws {
        let row = try connection.query("SELECT 7 AS seven, 'x' AS letter").first!
        #expect(try row.decode(Int.self, "seven") == 7)
        #expect(try row.decode(String.self, "letter") == "x")
        #expect(throws: PostgresError.self) { try row.decode(Int.self, "nope") }
    }

    @Test func nullIntoANonOptionalIsAnError() throws {
        let row = try connection.query("SELECT NULL::int").first!
        do {
            _ = try row.decode(Int.self, 0)
            Issue.record("NULL decoded as Int")
        } catch {
            #expect(error.kind == .decoding)
        }
    }

    @Test func wrongTypeIsADecodingError() throws {
        let row = try connection.query("SELECT 'abc'::text").first!
        #expect(throws: PostgresError.self) { try row.decode(Int.self, 0) }
        #expect(throws: PostgresError.self) { try row.decode(UUID.self, 0) }
        #expect(throws: PostgresError.self) { try row.decode(Date.self, 0) }
    }

    @Test func parametersRoundTrip() throws {
        let id = UUID()
        let when = Date(timeIntervalSince1970: 1_700_000_000.25)
        let json: JSONValue = ["k": [1, "two", false], "quote": "\"'\\"]
        let tags = ["a,b", "{c}", "d\"e", "f\\g", "", "NULL"]
        let row = try connection.query(
            "SELECT $1::text, $2::int8, $3::bool, $4::float8, $5::uuid, $6::timestamptz, $7::jsonb, $8::text[], $9::text",
            ["Robert'); DROP TABLE students;--", Int64.min, true, -0.125, id, when, json, tags, SQLNull()]
        ).first!
        #expect(try row.decode(String.self, 0) == "Robert'); DROP TABLE students;--")
        #expect(try row.decode(Int64.self, 1) == Int64.min)
        #expect(try row.decode(Bool.self, 2))
        #expect(try row.decode(Double.self, 3) == -0.125)
        #expect(try row.decode(UUID.self, 4) == id)
        #expect(try row.decode(Date.self, 5) == when)
        #expect(try row.decode(JSONValue.self, 6) == json)
        #expect(try row.decode([String].self, 7) == tags)
        #expect(try row.decode(String?.self, 8) == nil)
    }

    @Test func optionalParameters() throws {
        let none: String? = nil
        let some: Int? = 5
        let row = try connection.query("SELECT $1::text IS NULL, $2::int", [none, some]).first!
        #expect(try row.decode(Bool.self, 0))
        #expect(try row.decode(Int.self, 1) == 5)
    }

    @Test func aStringWithNULIsRefusedNotTruncated() {
        do {
            try connection.query("SELECT $1::text", ["abc\u{0}def"])
            Issue.record("NUL parameter accepted")
        } catch {
            #expect(error.kind == .parameter)
            #expect(!error.description.contains("abc"))
        }
    }

    @Test func affectedRowsAndEmptyResults() throws {
        try connection.simpleQuery("CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL UNIQUE, qty int CHECK (qty >= 0))")
        #expect(try connection.execute("INSERT INTO items (name, qty) VALUES ($1, 1), ($2, 2)", ["a", "b"]) == 2)
        #expect(try connection.execute("UPDATE items SET qty = qty + 1") == 2)
        let result = try connection.query("SELECT name FROM items WHERE qty > $1", [100])
        #expect(result.isEmpty)
        #expect(result.first == nil)
        #expect(result.columns == ["name"])
    }

    @Test func serverErrorsCarrySQLState() throws {
        try connection.simpleQuery("CREATE TABLE people (email text PRIMARY KEY, age int CHECK (age >= 0))")
        try connection.execute("INSERT INTO people VALUES ($1, 1)", ["secret@example.com"])
        do {
            try connection.execute("INSERT INTO people VALUES ($1, 2)", ["secret@example.com"])
            Issue.record("duplicate accepted")
        } catch {
            #expect(error.sqlState == .uniqueViolation)
            #expect(error.kind == .server)
            #expect(error.constraint == "people_pkey")
            #expect(error.detail?.isEmpty == false)
            // The description never carries parameter values.
            #expect(!error.description.contains("secret@example.com"))
            #expect(error.sql == "INSERT INTO people VALUES ($1, 2)")
        }
        do {
            try connection.execute("INSERT INTO people VALUES ($1, -1)", ["x@example.com"])
            Issue.record("check violation accepted")
        } catch {
            #expect(error.sqlState == .checkViolation)
            switch error {
            case SQLState.checkViolation: break
            default: Issue.record("~= did not match")
            }
        }
        do {
            try connection.query("SELEC 1")
            Issue.record("syntax error accepted")
        } catch {
            #expect(error.sqlState == .syntaxError)
            #expect(error.position == 1)
        }
        #expect(throws: PostgresError.self) { try connection.query("SELECT * FROM no_such_table") }
        // The connection is still usable after errors.
        #expect(try connection.query("SELECT 1").first!.decode(Int.self, 0) == 1)
    }

    @Test func transactionCommitsWhenTheBodyReturns() throws {
        try connection.simpleQuery("CREATE TABLE t (v int)")
        let inserted = try connection.transaction { c in
            try c.execute("INSERT INTO t VALUES (1), (2)")
        }
        #expect(inserted == 2)
        #expect(!connection.inTransaction)
        #expect(try connection.query("SELECT count(*) FROM t").first!.decode(Int.self, 0) == 2)
    }

    struct Boom: Error {}

    @Test func transactionRollsBackOnAnyThrownError() throws {
        try connection.simpleQuery("CREATE TABLE t (v int)")
        #expect(throws: Boom.self) {
            try connection.transaction { c in
                try c.execute("INSERT INTO t VALUES (1)")
                throw Boom()
            }
        }
        #expect(throws: PostgresError.self) {
            try connection.transaction { c in
                try c.execute("INSERT INTO t VALUES (2)")
                try c.execute("INSERT INTO t VALUES ('not a number')")
            }
        }
        #expect(!connection.inTransaction)
        #expect(try connection.query("SELECT count(*) FROM t").first!.decode(Int.self, 0) == 0)
    }

    @Test func nestedTransactionUsesASavepoint() throws {
        try connection.simpleQuery("CREATE TABLE t (v int)")
        try connection.transaction { c in
            try c.execute("INSERT INTO t VALUES (1)")
            _ = try? c.transaction { inner in
                try inner.execute("INSERT INTO t VALUES (2)")
                throw Boom()
            }
            try c.execute("INSERT INTO t VALUES (3)")
        }
        let values = try connection.query("SELECT v FROM t ORDER BY v").rows.map { try $0.decode(Int.self, 0) }
        #expect(values == [1, 3])
    }

    @Test func quoteIdentifier() throws {
        #expect(try connection.quoteIdentifier("plain") == "\"plain\"")
        #expect(try connection.quoteIdentifier("we\"ird") == "\"we\"\"ird\"")
    }
}
