import Foundation
import Postgres
import Store
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct MigrateCommandTests {
    @Test func checkFailsWhilePendingMigrateAppliesAndCheckThenPasses() throws {
        let conninfo = try TestDatabase.empty()
        let env = ["MASTERPLAN_DATABASE_URL": conninfo, "MASTERPLAN_MIGRATIONS_DIR": TestDatabase.migrationsDirectory]

        let before = try MasterplanBinary.run(["migrate", "--check"], environment: env)
        #expect(before.status == 1)
        #expect(before.output.contains("pending  0001_"))

        let first = try MasterplanBinary.run(["migrate"], environment: env)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("applied  0001_"))

        let tables = try Connection(conninfo).query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").first!.decode(Int.self, 0)
        #expect(tables >= 24)

        let second = try MasterplanBinary.run(["migrate"], environment: env)
        #expect(second.status == 0)
        #expect(second.output.contains("nothing to apply"))

        let after = try MasterplanBinary.run(["migrate", "--check"], environment: env)
        #expect(after.status == 0, "\(after.output)")
        #expect(after.output.contains("schema is current"))
    }

    @Test func checkFailsWhenAnAppliedFileWasEdited() throws {
        let folder = NSTemporaryDirectory() + "masterplan-cli-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: TestDatabase.migrationsDirectory, toPath: folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let conninfo = try TestDatabase.empty()
        let env = ["MASTERPLAN_DATABASE_URL": conninfo]
        #expect(try MasterplanBinary.run(["migrate", "--migrations", folder], environment: env).status == 0)

        let first = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".sql") }.sorted().first)
        let path = folder + "/" + first
        try (try String(contentsOfFile: path, encoding: .utf8) + "\n-- edited\n").write(toFile: path, atomically: true, encoding: .utf8)

        let check = try MasterplanBinary.run(["migrate", "--check", "--migrations", folder], environment: env)
        #expect(check.status == 1)
        #expect(check.output.contains("edited   \(first)"))

        let migrate = try MasterplanBinary.run(["migrate", "--migrations", folder], environment: env)
        #expect(migrate.status != 0)
        #expect(migrate.output.contains(first))
    }

    @Test func missingDatabaseURLIsOneLineNamingTheVariable() throws {
        let outcome = try MasterplanBinary.run(["migrate"], environment: [:])
        #expect(outcome.status != 0)
        let lines = outcome.output.split(separator: "\n")
        #expect(lines.count == 1, "\(outcome.output)")
        #expect(outcome.output.contains("MASTERPLAN_DATABASE_URL is not set"))
    }

    @Test func unreachableDatabaseIsOneClearLine() throws {
        let outcome = try MasterplanBinary.run(["migrate", "--database-url", "host=127.0.0.1 port=1 password=topsecret connect_timeout=3",
                                                "--migrations", TestDatabase.migrationsDirectory])
        #expect(outcome.status != 0)
        #expect(outcome.output.split(separator: "\n").count == 1, "\(outcome.output)")
        #expect(outcome.output.contains("could not connect to PostgreSQL"))
        #expect(!outcome.output.contains("topsecret"))
    }
}
