import ArgumentParser
import Postgres

/// `--database-url` of the commands that work on MasterPlan's database (`migrate`, `serve`, `executor`,
/// `user`): a libpq conninfo or URL, else `MASTERPLAN_DATABASE_URL` (README, "Configuration").
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "libpq conninfo or URL (default: $MASTERPLAN_DATABASE_URL).")
    var databaseURL: String?

    /// The conninfo to connect with; without one, fails with the line that names the variable to set.
    func conninfo() throws -> String { try Settings.databaseURL(explicit: databaseURL) }

    /// A connection to the database. Calls `PQconnectdb` (through `Connection`).
    func connect() throws -> Connection { try Connection(try conninfo()) }
}
