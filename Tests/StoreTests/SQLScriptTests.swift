@testable import Store
import Testing

@Suite(.dedicatedThreads) struct SQLScriptTests {
    @Test func splitsOnSemicolonsOutsideQuotesAndComments() {
        let text = """
            -- leading comment; not a statement
            CREATE TABLE a (t text DEFAULT 'x;y''z');
            /* block; /* nested; */ still comment */
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$
            BEGIN
                RETURN 1; -- inside the body
            END;
            $$;
            COMMENT ON TABLE a IS E'back\\'slash;';
            SELECT "we;ird" FROM a;
            SELECT $tag$ ; $$ ; $tag$;
            SELECT $1
            """
        let statements = SQLScript.statements(in: text)
        #expect(statements.map(\.line) == [2, 4, 9, 10, 11, 12])
        #expect(statements[0].sql == "CREATE TABLE a (t text DEFAULT 'x;y''z');")
        #expect(statements[1].sql.hasPrefix("CREATE FUNCTION f()"))
        #expect(statements[1].sql.hasSuffix("$$;"))
        #expect(statements[2].sql == "COMMENT ON TABLE a IS E'back\\'slash;';")
        #expect(statements[5].sql == "SELECT $1")
    }

    @Test func onlyCommentsIsNoStatement() {
        #expect(SQLScript.statements(in: "-- nothing\n/* at all */\n").isEmpty)
        #expect(SQLScript.statements(in: "").isEmpty)
    }

    @Test func everyRepositoryMigrationSplitsIntoStatementsThatEndWithSemicolons() throws {
        let migrator = try Migrator(directory: TestSupportPaths.migrations)
        for file in migrator.files {
            let statements = SQLScript.statements(in: file.sql)
            #expect(!statements.isEmpty)
            for statement in statements {
                #expect(statement.sql.hasSuffix(";"), "\(file.name):\(statement.line) does not end with a semicolon")
            }
        }
    }
}

import TestSupport

enum TestSupportPaths {
    static var migrations: String { TestDatabase.migrationsDirectory }
}
