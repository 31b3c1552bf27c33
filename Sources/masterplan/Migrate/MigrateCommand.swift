import ArgumentParser
import Foundation
import Postgres
import Store

/// `masterplan migrate`: brings the database schema up to date, or checks that it is.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations (one transaction each, under an advisory lock).",
        discussion: "With --check nothing is changed: the exit status is 0 when every migration file is applied unchanged, 1 otherwise."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Folder of NNNN_name.sql files (default: $MASTERPLAN_MIGRATIONS_DIR or ./Migrations).")
    var migrations: String?

    @Flag(help: "Report pending or edited migrations and exit non-zero if there are any; change nothing.")
    var check = false

    func run() throws {
        let conninfo = try database.conninfo()
        let migrator = try Migrator(directory: try MigrationsFolder.locate(explicit: migrations))
        let connection = try Connection(conninfo)
        if check {
            let status = try migrator.status(on: connection)
            for file in status.pending { print("pending  \(file.name)") }
            for edited in status.edited { print("edited   \(edited.file) (applied, but the file changed since)") }
            for missing in status.missing { print("missing  \(missing.name) (applied, but the file is gone)") }
            if status.isCurrent {
                print("schema is current: \(status.applied.count) migrations applied")
                return
            }
            throw ExitCode(1)
        }
        let applied = try migrator.migrate(on: connection) { file, duration in
            print("applied  \(file.name)  (\(duration.formatted(.units(allowed: [.milliseconds]))))")
        }
        print(applied.isEmpty ? "schema is current: nothing to apply" : "applied \(applied.count) migration\(applied.count == 1 ? "" : "s")")
    }
}
