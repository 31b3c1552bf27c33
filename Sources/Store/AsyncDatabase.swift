import Foundation
import Postgres

/// Lets async code use PostgreSQL without blocking the cooperative thread pool: a small, fixed set
/// of threads, each owning one connection, runs the closures handed to `run`.
///
/// Blocking libpq calls never run on Swift concurrency's threads. Each closure runs on
/// one connection from start to end, so a closure may open and finish a transaction.
public final class AsyncDatabase: Sendable {
    private let queue: WorkQueue<Work>
    private let threads: Int

    /// Starts `connections` threads; each opens its connection on first use (and reconnects after
    /// a lost server on the next call, as `Connection` does).
    public init(conninfo: String, connections: Int = 4) {
        precondition(connections >= 1, "an AsyncDatabase needs at least one connection")
        queue = WorkQueue<Work>()
        threads = connections
        for _ in 0..<connections {
            let queue = self.queue
            let thread = Thread {
                var connection: Connection?
                while let work = queue.next() {
                    do {
                        if connection == nil || connection?.isConnected == false { connection = try Connection(conninfo) }
                        work(.success(connection!))
                    } catch {
                        connection = nil
                        work(.failure(error))
                    }
                }
            }
            thread.start()
        }
    }

    deinit { queue.close() }

    /// Stops the threads after the work already handed in; later `run` calls throw.
    public func close() { queue.close() }

    /// Runs `body` on one of the database threads with its connection and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = queue.add { connection in
                switch connection {
                case .success(let c):
                    do { continuation.resume(returning: try body(c)) } catch { continuation.resume(throwing: error) }
                case .failure(let error):
                    continuation.resume(throwing: error)
                }
            }
            if !accepted { continuation.resume(throwing: PostgresError(kind: .connection, message: "the database pool is closed")) }
        }
    }

    typealias Work = @Sendable (Result<Connection, any Error>) -> Void
}
