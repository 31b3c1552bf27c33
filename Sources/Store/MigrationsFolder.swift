import Foundation

/// Finds the `Migrations/` folder the binary should apply.
public enum MigrationsFolder {
    /// `explicit`, else `MASTERPLAN_MIGRATIONS_DIR`, else `Migrations/` in the current folder or in a
    /// parent of the executable's folder (a checkout's `.build/debug/masterplan`), else
    /// `/usr/share/masterplan/Migrations`.
    public static func locate(explicit: String? = nil) throws -> String {
        let fm = FileManager.default
        func hasMigrations(_ dir: String) -> Bool {
            ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).contains { $0.hasSuffix(".sql") }
        }
        if let explicit {
            guard hasMigrations(explicit) else {
                throw MigrationError(file: explicit, message: "no migration files (NNNN_name.sql) in this folder")
            }
            return explicit
        }
        if let env = ProcessInfo.processInfo.environment["MASTERPLAN_MIGRATIONS_DIR"], !env.isEmpty {
            guard hasMigrations(env) else {
                throw MigrationError(file: env, message: "MASTERPLAN_MIGRATIONS_DIR names a folder without migration files (NNNN_name.sql)")
            }
            return env
        }
        var candidates = [fm.currentDirectoryPath + "/Migrations"]
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(dir.appendingPathComponent("Migrations").path)
            dir.deleteLastPathComponent()
        }
        candidates.append("/usr/share/masterplan/Migrations")
        if let found = candidates.first(where: hasMigrations) { return found }
        throw MigrationError(file: nil, message: "the Migrations folder was not found: pass --migrations DIR or set MASTERPLAN_MIGRATIONS_DIR")
    }
}
