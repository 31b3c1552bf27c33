import Foundation
import Postgres
import Store
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct MigratorTests {
    /// Every table the migrations create.
    static let designTables = [
        "users", "api_tokens", "conversations", "messages", "discoveries", "masterplans", "phases", "milestones",
        "tasks", "task_dependencies", "subtasks", "acceptance_criteria", "acceptance_tests", "plan_versions",
        "plan_history", "atoms", "atom_attempts", "waves", "gate_results", "test_runs", "reviews", "llm_calls",
        "jobs", "events",
    ]

    func tables(_ connection: Connection) throws -> Set<String> {
        Set(try connection.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").rows.map { try $0.decode(String.self, 0) })
    }

    /// A copy of the repository's migrations in a temporary folder, to edit without harm.
    func copyOfMigrations(first count: Int? = nil) throws -> String {
        let folder = NSTemporaryDirectory() + "masterplan-migrations-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var files = try FileManager.default.contentsOfDirectory(atPath: TestDatabase.migrationsDirectory).filter { $0.hasSuffix(".sql") }.sorted()
        if let count { files = Array(files.prefix(count)) }
        for file in files {
            try FileManager.default.copyItem(atPath: TestDatabase.migrationsDirectory + "/" + file, toPath: folder + "/" + file)
        }
        return folder
    }

    @Test func migrateCreatesEveryTableAndIsIdempotent() throws {
        let connection = try Connection(try TestDatabase.empty())
        let migrator = try Migrator(directory: TestDatabase.migrationsDirectory)
        #expect(try !migrator.status(on: connection).isCurrent)

        let applied = try migrator.migrate(on: connection)
        #expect(applied.map(\.version) == migrator.files.map(\.version))
        let created = try tables(connection)
        for table in Self.designTables {
            #expect(created.contains(table), "table \(table) is missing")
        }
        #expect(created.contains("schema_migrations"))
        #expect(try migrator.status(on: connection).isCurrent)

        // A second run changes nothing.
        let before = try connection.query("SELECT version, applied_at FROM schema_migrations ORDER BY version").rows.map { try $0.decode(String.self, 1) }
        #expect(try migrator.migrate(on: connection).isEmpty)
        let after = try connection.query("SELECT version, applied_at FROM schema_migrations ORDER BY version").rows.map { try $0.decode(String.self, 1) }
        #expect(before == after)
    }

    @Test func everyConstraintOfTheSchemaHolds() throws {
        // The fixture inserts valid rows and, for every CHECK, FOREIGN KEY and UNIQUE constraint,
        // a row that must fail on exactly that constraint; it raises an exception otherwise.
        let url = try #require(Bundle.module.url(forResource: "Fixtures/schema_checks", withExtension: "sql"))
        let sql = try String(contentsOf: url, encoding: .utf8)
        let connection = try Connection(try TestDatabase.migrated())
        try connection.simpleQuery(sql)
        // The fixture rolls itself back.
        #expect(try connection.query("SELECT count(*) FROM users").first!.decode(Int.self, 0) == 0)
    }

    @Test func pendingMigrationsAreFoundAndApplied() throws {
        let partial = try copyOfMigrations(first: 2)
        defer { try? FileManager.default.removeItem(atPath: partial) }
        let connection = try Connection(try TestDatabase.empty())
        try Migrator(directory: partial).migrate(on: connection)

        let full = try Migrator(directory: TestDatabase.migrationsDirectory)
        let status = try full.status(on: connection)
        #expect(status.applied == [1, 2])
        #expect(status.pending.map(\.version) == Array(full.files.map(\.version).dropFirst(2)))
        #expect(!status.isCurrent)
        #expect(try full.migrate(on: connection).count == full.files.count - 2)
        #expect(try full.status(on: connection).isCurrent)
    }

    @Test func anEditedAppliedFileIsRefused() throws {
        let folder = try copyOfMigrations()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let connection = try Connection(try TestDatabase.empty())
        try Migrator(directory: folder).migrate(on: connection)

        let second = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).sorted().dropFirst().first)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/" + second))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n-- an innocent-looking edit\n".utf8))
        try handle.close()

        let migrator = try Migrator(directory: folder)
        let status = try migrator.status(on: connection)
        #expect(status.edited.map(\.file) == [second])
        #expect(!status.isCurrent)
        do {
            try migrator.migrate(on: connection)
            Issue.record("edited migration accepted")
        } catch let error as MigrationError {
            #expect(error.file == second)
            #expect(error.description.contains("edited"))
        }
    }

    @Test func aFailingMigrationNamesFileAndLineAndLeavesNothingBehind() throws {
        let folder = NSTemporaryDirectory() + "masterplan-bad-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "CREATE TABLE first_table (id int);\n".write(toFile: folder + "/0001_first.sql", atomically: true, encoding: .utf8)
        try """
            CREATE TABLE second_table (id int);
            -- the next statement is wrong
            CREATE TABLE third_table (id int REFERENCES no_such_table (id));
            """.write(toFile: folder + "/0002_second.sql", atomically: true, encoding: .utf8)

        let connection = try Connection(try TestDatabase.empty())
        do {
            try Migrator(directory: folder).migrate(on: connection)
            Issue.record("broken migration applied")
        } catch let error as MigrationError {
            #expect(error.file?.hasSuffix("/0002_second.sql") == true)
            #expect(error.sqlState == .undefinedTable)
            #expect(error.description.contains("0002_second.sql:3: "))
        }
        let created = try tables(connection)
        #expect(created.contains("first_table"))
        #expect(!created.contains("second_table"), "the failed file's transaction was not rolled back")
        #expect(try connection.query("SELECT version FROM schema_migrations").rows.map { try $0.decode(Int.self, 0) } == [1])
    }

    @Test func concurrentMigratorsDoNotRace() throws {
        let conninfo = try TestDatabase.empty()
        let migrator = try Migrator(directory: TestDatabase.migrationsDirectory)
        let group = DispatchGroup()
        let failures = Mutexed<[String]>([])
        for _ in 0..<3 {
            group.enter()
            Thread {
                defer { group.leave() }
                do {
                    try migrator.migrate(on: try Connection(conninfo))
                } catch {
                    failures.mutate { $0.append(String(describing: error)) }
                }
            }.start()
        }
        group.wait()
        #expect(failures.value.isEmpty)
        let connection = try Connection(conninfo)
        #expect(try connection.query("SELECT count(*) FROM schema_migrations").first!.decode(Int.self, 0) == migrator.files.count)
    }

    @Test(arguments: ["1_short.sql", "0001-dash.sql", "0001_Upper.sql", "abcd_letters.sql", "0001_.sql"])
    func badFileNamesAreRefused(name: String) throws {
        let folder = NSTemporaryDirectory() + "masterplan-names-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "SELECT 1;".write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
        #expect(throws: MigrationError.self) { try Migrator(directory: folder) }
    }

    @Test func duplicateNumbersAreRefused() throws {
        let folder = NSTemporaryDirectory() + "masterplan-dup-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "SELECT 1;".write(toFile: folder + "/0001_a.sql", atomically: true, encoding: .utf8)
        try "SELECT 1;".write(toFile: folder + "/0001_b.sql", atomically: true, encoding: .utf8)
        #expect(throws: MigrationError.self) { try Migrator(directory: folder) }
    }
}
