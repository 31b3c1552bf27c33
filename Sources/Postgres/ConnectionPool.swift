import Dispatch
import Synchronization

/// A few PostgreSQL connections shared by many threads, one thread per connection at a time: the
/// API relay's replays and ownership checks, and the threads of an `AsyncDatabase`. A thread that
/// finds all of them busy waits for one.
public final class ConnectionPool: Sendable {
    private let conninfo: String
    private let idle = Mutex<[Connection]>([])
    private let slots: DispatchSemaphore

    public init(conninfo: String, size: Int) {
        precondition(size >= 1, "a pool needs at least one connection")
        self.conninfo = conninfo
        slots = DispatchSemaphore(value: size)
    }

    /// Runs `body` with a connection of its own, so `body` may open and finish a transaction. An idle
    /// connection known to be bad is replaced before use; one lost during `body`, or left inside a
    /// transaction, is dropped, not reused.
    public func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        slots.wait()
        defer { slots.signal() }
        let connection = try idle.withLock { $0.popLast() }.flatMap { $0.isConnected ? $0 : nil } ?? Connection(conninfo)
        do {
            let value = try body(connection)
            if !connection.inTransaction { idle.withLock { $0.append(connection) } }
            return value
        } catch let error as PostgresError where error.isConnectionLost {
            throw error
        } catch {
            if connection.isConnected && !connection.inTransaction { idle.withLock { $0.append(connection) } }
            throw error
        }
    }
}
