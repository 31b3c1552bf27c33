import Base

/// Lets async code use PostgreSQL without blocking the cooperative thread pool: a `BlockingPool` of
/// `connections` threads runs the closures handed to `run`, each on a connection of a
/// `ConnectionPool` of the same size.
///
/// Blocking libpq calls never run on Swift concurrency's threads. Each closure runs on one
/// connection from start to end, so a closure may open and finish a transaction. Connections open
/// on first use and are replaced after a lost server, as `ConnectionPool` does.
public final class AsyncDatabase: Sendable {
    private let connections: ConnectionPool
    private let threads: BlockingPool

    public init(conninfo: String, connections: Int = 4) {
        precondition(connections >= 1, "an AsyncDatabase needs at least one connection")
        self.connections = ConnectionPool(conninfo: conninfo, size: connections)
        threads = BlockingPool(threads: connections)
    }

    /// Stops the threads after the work already handed in; later `run` calls throw.
    public func close() { threads.close() }

    /// Runs `body` on one of the database threads with a connection and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        let connections = self.connections
        guard let value = try await threads.runIfOpen({ () throws -> T in try connections.withConnection(body) }) else {
            throw PostgresError(kind: .connection, message: "the database pool is closed")
        }
        return value
    }
}
