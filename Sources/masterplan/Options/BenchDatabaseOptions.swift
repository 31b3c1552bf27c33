import ArgumentParser

/// `--database-url` of the benches that need a database: without it, each starts a private throwaway
/// PostgreSQL cluster of its own (`PrivateCluster`).
struct BenchDatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "Use this database (must be migrated) instead of a private cluster.")
    var databaseURL: String?
}
