import Foundation
import Postgres
import Testing
import TestSupport

/// `Connection.pipeline` runs statements in one round trip: in order, as one transaction outside a
/// transaction, inside the caller's otherwise, with the same errors as `query`.
@Suite(.dedicatedThreads) struct PipelineTests {
    let connection: Connection
    let table: String

    init() throws {
        connection = try Connection(try TestDatabase.empty())
        table = "pipe_\(UInt32.random(in: 0...UInt32.max))"
        try connection.simpleQuery("CREATE TABLE \(table) (id int PRIMARY KEY, note text NOT NULL)")
    }

    func rows() throws -> [Int] {
        try connection.query("SELECT id FROM \(table) ORDER BY id").rows.map { try $0.decode(Int.self, 0) }
    }

    func insert(_ id: Int, _ note: String? = "n") -> PipelinedStatement {
        PipelinedStatement("INSERT INTO \(table) (id, note) VALUES ($1, $2) RETURNING id * 10", [id, note])
    }

    @Test func statementsRunInOrderAndReturnTheirResultsInOrder() throws {
        for round in 0..<3 {
            let base = round * 10
            let results = try connection.pipeline([
                insert(base + 1),
                PipelinedStatement("UPDATE \(table) SET note = $2 WHERE id = $1", [base + 1, "changed"]),
                PipelinedStatement("SELECT note, $1::int FROM \(table) WHERE id = $2", [round, base + 1]),
                insert(base + 2),
            ])
            #expect(results.count == 4)
            #expect(try results[0].first!.decode(Int.self, 0) == (base + 1) * 10)
            #expect(results[1].affectedRows == 1)
            #expect(try results[2].first!.decode(String.self, 0) == "changed")
            #expect(try results[2].first!.decode(Int.self, 1) == round)
            #expect(try results[3].first!.decode(Int.self, 0) == (base + 2) * 10)
        }
        #expect(try rows() == [1, 2, 11, 12, 21, 22])
        // From their second run on, the statements ran prepared, as `query` runs them.
        #expect(connection.preparedStatementCount == 3)
        #expect(!connection.inTransaction)
    }

    @Test func outsideATransactionAFailureKeepsNothingAndNamesItsStatement() throws {
        for _ in 0..<3 {
            do {
                try connection.pipeline([insert(1), insert(2), insert(1), insert(3)])
                Issue.record("a duplicate key was accepted")
            } catch {
                #expect(error.sqlState == SQLState("23505"))
                #expect(error.sql?.contains("INSERT INTO \(table)") == true)
            }
            #expect(try rows() == [])
            #expect(!connection.inTransaction)
        }
        // The connection is out of pipeline mode and takes ordinary statements again.
        #expect(try connection.query("SELECT $1::int + 1", [1]).first!.decode(Int.self, 0) == 2)
        try connection.pipeline([insert(1), insert(2)])
        #expect(try rows() == [1, 2])
    }

    @Test func aSyntaxErrorOnThePreparingRunIsReportedWithItsPosition() throws {
        let broken = PipelinedStatement("SELEC $1::int", [1])
        for _ in 0..<3 {
            do {
                try connection.pipeline([insert(5), broken])
                Issue.record("a syntax error ran")
            } catch {
                #expect(error.sqlState == SQLState("42601"))
                #expect(error.position != nil)
            }
        }
        #expect(try rows() == [])
    }

    @Test func aParameterThatCannotBeSentRunsNothing() throws {
        do {
            try connection.pipeline([insert(7), insert(8, "a\u{0}b")])
            Issue.record("a NUL character was sent")
        } catch {
            #expect(error.kind == .parameter)
        }
        #expect(try rows() == [])
        #expect(try connection.query("SELECT 1").first!.decode(Int.self, 0) == 1)
    }

    @Test func insideATransactionItIsPartOfItAndFailsIt() throws {
        struct Undo: Error {}
        #expect(throws: Undo.self) {
            try connection.transaction { db throws in
                try db.pipeline([insert(1), insert(2)])
                #expect(db.inTransaction)
                throw Undo()
            }
        }
        #expect(try rows() == [])
        #expect(throws: PostgresError.self) {
            try connection.transaction { db throws in
                try db.pipeline([insert(3)])
                try db.pipeline([insert(4), insert(3)])
            }
        }
        #expect(try rows() == [])
        try connection.transaction { db throws in
            try db.pipeline([insert(5)])
            try db.query("INSERT INTO \(table) (id, note) VALUES (6, 'x')")
        }
        #expect(try rows() == [5, 6])
    }

    @Test func aSessionThatForgotItsStatementsRunsThePipelineAgain() throws {
        try connection.pipeline([insert(1), insert(2)])
        try connection.pipeline([insert(3), insert(4)])
        #expect(connection.preparedStatementCount == 1)
        try connection.simpleQuery("DEALLOCATE ALL")
        try connection.pipeline([insert(5), insert(6)])
        try connection.pipeline([insert(7)])
        #expect(try rows() == [1, 2, 3, 4, 5, 6, 7])
    }

    @Test func anEmptyPipelineDoesNothing() throws {
        #expect(try connection.pipeline([]).isEmpty)
        #expect(!connection.inTransaction)
    }
}
