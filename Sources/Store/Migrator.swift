import Base
import Foundation
import Postgres

/// One numbered SQL file in `Migrations/`, e.g. `0003_execution.sql`.
public struct MigrationFile: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var path: String
    public var sql: String
}

/// What `Migrator.status(on:)` found: applied, pending and tampered-with migrations.
public struct MigrationStatus: Sendable {
    public var applied: [Int] = []
    public var pending: [MigrationFile] = []
    /// Applied migrations whose file has changed since (version, file name).
    public var edited: [(version: Int, file: String)] = []
    /// Applied migrations that no longer have a file (version, recorded name).
    public var missing: [(version: Int, name: String)] = []

    /// True when the database is exactly at the files' state.
    public var isCurrent: Bool { pending.isEmpty && edited.isEmpty && missing.isEmpty }
}

/// Why migrating failed; `description` names the file and, when known, the line.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    public var file: String?
    public var line: Int?
    public var message: String
    public var sqlState: SQLState?

    public var description: String {
        var location = ""
        if let file { location = file + (line.map { ":\($0)" } ?? "") + ": " }
        return location + message
    }
}

/// Applies `Migrations/NNNN_name.sql` files in order: each in one transaction together with its
/// bookkeeping row, under an advisory lock so two migrators cannot race, with a SHA-256 checksum
/// per file so an edited, already-applied file is refused.
public struct Migrator: Sendable {
    public let files: [MigrationFile]

    /// Arbitrary but fixed: the key of the session advisory lock every migrator takes.
    static let advisoryLockKey: Int64 = 0x6D70_6D69_6772  // "mpmigr"

    static let createBookkeeping = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version     integer PRIMARY KEY,
            name        text NOT NULL,
            checksum    text NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now(),
            duration_ms integer NOT NULL
        )
        """

    /// Reads every migration file of `directory`. File names must be `NNNN_lowercase_name.sql`
    /// with unique numbers; anything else ending in `.sql` is an error rather than silently skipped.
    public init(directory: String) throws(MigrationError) {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else {
            throw MigrationError(file: directory, message: "the migrations folder cannot be read")
        }
        var files: [MigrationFile] = []
        for name in names.sorted() where name.hasSuffix(".sql") {
            guard let file = Self.parseName(name) else {
                throw MigrationError(file: name, message: "a migration file must be named NNNN_lowercase_words.sql")
            }
            let path = directory + "/" + name
            guard let data = fm.contents(atPath: path), let sql = String(data: data, encoding: .utf8) else {
                throw MigrationError(file: path, message: "the file cannot be read as UTF-8")
            }
            if let previous = files.last, previous.version == file.version {
                throw MigrationError(file: name, message: "migration number \(file.version) is used by \(previous.name) too")
            }
            files.append(MigrationFile(version: file.version, name: name, path: path, sql: sql))
        }
        guard !files.isEmpty else { throw MigrationError(file: directory, message: "no migration files (NNNN_name.sql) in this folder") }
        self.files = files
    }

    static func parseName(_ name: String) -> (version: Int, name: String)? {
        let stem = name.dropLast(4)
        let parts = stem.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, parts[0].count == 4, let version = Int(parts[0]), version > 0,
              parts[1].allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }), parts[1].first?.isLetter == true
        else { return nil }
        return (version, String(parts[1]))
    }

    /// Compares the files with the database's `schema_migrations` without changing anything.
    public func status(on connection: Connection) throws -> MigrationStatus {
        var status = MigrationStatus()
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL").first!.decode(Bool.self, 0)
        var recorded: [Int: (name: String, checksum: String)] = [:]
        if exists {
            for row in try connection.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version").rows {
                recorded[try row.decode(Int.self, 0)] = (try row.decode(String.self, 1), try row.decode(String.self, 2))
            }
        }
        let byVersion = Dictionary(uniqueKeysWithValues: files.map { ($0.version, $0) })
        for (version, entry) in recorded.sorted(by: { $0.key < $1.key }) {
            guard let file = byVersion[version] else {
                status.missing.append((version, entry.name))
                continue
            }
            status.applied.append(version)
            if try checksum(of: file, on: connection) != entry.checksum { status.edited.append((version, file.name)) }
        }
        status.pending = files.filter { recorded[$0.version] == nil }
        return status
    }

    /// Applies every pending migration, in order. Returns the files applied (empty when current).
    /// Refuses to run when an applied file was edited or is missing.
    @discardableResult
    public func migrate(on connection: Connection, progress: (MigrationFile, Duration) -> Void = { _, _ in }) throws -> [MigrationFile] {
        try connection.query("SELECT pg_advisory_lock($1)", [Self.advisoryLockKey])
        defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [Self.advisoryLockKey]) }
        try connection.simpleQuery(Self.createBookkeeping)
        let status = try status(on: connection)
        if let edited = status.edited.first {
            throw MigrationError(file: edited.file, message: "this migration was applied and has been edited since (checksum differs); add a new migration instead of changing an applied one")
        }
        if let missing = status.missing.first {
            throw MigrationError(file: missing.name, message: "migration \(missing.version) is recorded as applied but its file is gone")
        }
        var applied: [MigrationFile] = []
        for file in status.pending {
            let clock = ContinuousClock()
            let start = clock.now
            let sum = try checksum(of: file, on: connection)
            // Statement by statement, so an error can be pinned to its line even when the server
            // reports no position (most errors other than syntax errors).
            var current = SQLScript.Statement(sql: file.sql, line: 1)
            do {
                try connection.transaction { c in
                    for statement in SQLScript.statements(in: file.sql) {
                        current = statement
                        try c.simpleQuery(statement.sql)
                    }
                    let ms = Int((clock.now - start).wholeMilliseconds)
                    try c.query("INSERT INTO schema_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)",
                                [file.version, file.name, sum, ms])
                }
            } catch let error as PostgresError {
                let line = current.line - 1 + (error.position.map { Self.line(ofCharacter: $0, in: current.sql) } ?? 1)
                throw MigrationError(file: file.path, line: line, message: error.description, sqlState: error.sqlState)
            }
            progress(file, clock.now - start)
            applied.append(file)
        }
        return applied
    }

    /// The hex SHA-256 of the file's bytes, computed by the server (`sha256()` of PostgreSQL 11+).
    func checksum(of file: MigrationFile, on connection: Connection) throws -> String {
        try connection.query("SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", [file.sql]).first!.decode(String.self, 0)
    }

    /// The 1-based line of the 1-based character position the server reported.
    static func line(ofCharacter position: Int, in text: String) -> Int {
        var line = 1
        // The server counts characters as code points.
        for (i, scalar) in text.unicodeScalars.enumerated() {
            if i >= position - 1 { break }
            if scalar == "\n" { line += 1 }
        }
        return line
    }
}
