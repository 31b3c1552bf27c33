import Foundation

/// Reads the configuration (README, "Configuration") from the environment, failing with one line that names
/// the variable and the form it should take.
enum Settings {
    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    static func databaseURL(explicit: String?) throws -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let value = ProcessInfo.processInfo.environment["MASTERPLAN_DATABASE_URL"], !value.isEmpty { return value }
        throw Missing(description: "MASTERPLAN_DATABASE_URL is not set: give a libpq conninfo such as 'host=/var/run/postgresql dbname=masterplan' or a URL such as 'postgresql://user@localhost/masterplan' (or pass --database-url)")
    }
}
