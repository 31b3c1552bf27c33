import Foundation
import Postgres
import Testing
import TestSupport

/// `Connection.query` prepares a statement on its second run and runs it prepared from then on;
/// callers see the same results and the same errors as with unnamed statements.
@Suite(.dedicatedThreads) struct StatementCacheTests {
    let connection: Connection

    init() throws {
        connection = try Connection(try TestDatabase.empty())
    }

    func preparedOnServer() throws -> Int {
        try connection.simpleQuery("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'masterplan_s%'")
            .first!.decode(Int.self, 0)
    }

    @Test func aStatementIsPreparedOnItsSecondRunAndGivesTheSameAnswers() throws {
        let sql = "SELECT $1::int + 1, $2::text"
        #expect(try connection.query(sql, [1, "a"]).first!.decode(Int.self, 0) == 2)
        #expect(connection.preparedStatementCount == 0)
        #expect(try preparedOnServer() == 0)
        #expect(try connection.query(sql, [2, "b"]).first!.decode(String.self, 1) == "b")
        #expect(connection.preparedStatementCount == 1)
        #expect(try preparedOnServer() == 1)
        for value in 3...10 { #expect(try connection.query(sql, [value, nil as String?]).first!.decode(Int.self, 0) == value + 1) }
        #expect(try connection.query(sql, [0, nil as String?]).first!.decode(String?.self, 1) == nil)
        #expect(try preparedOnServer() == 1)
    }

    @Test func aStatementThatCannotBePreparedFailsAsItWouldUnprepared() throws {
        for _ in 0..<3 {
            do {
                try connection.query("SELEC $1::int", [1])
                Issue.record("a syntax error ran")
            } catch {
                #expect(error.sqlState == SQLState("42601"))
                #expect(error.position != nil)
            }
        }
        #expect(connection.preparedStatementCount == 0)
        #expect(try connection.query("SELECT 1").first!.decode(Int.self, 0) == 1)
    }

    @Test func aSessionThatForgotItsStatementsRunsThemAgain() throws {
        let sql = "SELECT $1::int * 2"
        _ = try connection.query(sql, [1])
        _ = try connection.query(sql, [1])
        try connection.simpleQuery("DEALLOCATE ALL")
        #expect(try connection.query(sql, [4]).first!.decode(Int.self, 0) == 8)
        #expect(try connection.query(sql, [5]).first!.decode(Int.self, 0) == 10)
        #expect(try connection.query(sql, [6]).first!.decode(Int.self, 0) == 12)
        #expect(try preparedOnServer() == 1)
    }

    @Test func aTableThatChangedShapeIsReadWithItsNewColumns() throws {
        let table = "shape_\(UInt32.random(in: 0...UInt32.max))"
        try connection.simpleQuery("CREATE TABLE \(table) (a int); INSERT INTO \(table) VALUES (1)")
        let sql = "SELECT * FROM \(table) WHERE a = $1"
        _ = try connection.query(sql, [1])
        #expect(try connection.query(sql, [1]).columns == ["a"])
        try connection.simpleQuery("ALTER TABLE \(table) ADD COLUMN b text DEFAULT 'x'")
        let result = try connection.query(sql, [1])
        #expect(result.columns == ["a", "b"])
        #expect(try result.first!.decode(String.self, 1) == "x")
        #expect(try connection.query(sql, [1]).columns == ["a", "b"])
    }

    @Test func preparedStatementsWorkInsideTransactionsAndOutliveARollback() throws {
        let sql = "SELECT $1::int - 1"
        try connection.transaction { db throws in
            #expect(try db.query(sql, [1]).first!.decode(Int.self, 0) == 0)
            #expect(try db.query(sql, [2]).first!.decode(Int.self, 0) == 1)
        }
        #expect(connection.preparedStatementCount == 1)
        struct Undo: Error {}
        #expect(throws: Undo.self) {
            try connection.transaction { db throws in
                #expect(try db.query(sql, [3]).first!.decode(Int.self, 0) == 2)
                throw Undo()
            }
        }
        #expect(try connection.query(sql, [4]).first!.decode(Int.self, 0) == 3)
        #expect(try preparedOnServer() == 1)
    }

    @Test func anAbortedTransactionStillReportsItselfAndPreparesNothing() throws {
        let sql = "SELECT $1::int + 100"
        _ = try connection.query(sql, [1])
        try connection.simpleQuery("BEGIN")
        _ = try? connection.query("SELECT 1/0")
        do {
            try connection.query(sql, [1])
            Issue.record("ran in an aborted transaction")
        } catch {
            #expect(error.sqlState == SQLState("25P02"))
        }
        try connection.simpleQuery("ROLLBACK")
        #expect(connection.preparedStatementCount == 0)
        #expect(try connection.query(sql, [1]).first!.decode(Int.self, 0) == 101)
    }

    @Test func aReconnectedSessionPreparesAgain() throws {
        let sql = "SELECT $1::int + 7"
        _ = try connection.query(sql, [1])
        _ = try connection.query(sql, [1])
        #expect(connection.preparedStatementCount == 1)
        try connection.reconnect()
        #expect(connection.preparedStatementCount == 0)
        #expect(try connection.query(sql, [1]).first!.decode(Int.self, 0) == 8)
        #expect(try connection.query(sql, [2]).first!.decode(Int.self, 0) == 9)
        #expect(try preparedOnServer() == 1)
    }
}
