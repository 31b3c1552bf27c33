import Foundation
import LLM
import Postgres

/// Writes `llm_calls` rows through a few PostgreSQL connections of its own (an `AsyncDatabase`), so
/// the blocking libpq calls never run on Swift's cooperative thread pool and calls that end together
/// (a wave of atoms) are logged side by side rather than one after another through one connection.
/// Connections open on first use; a row whose connection was lost is written again once on a new one.
public final class PostgresLLMCallLog: LLMCallLog, Sendable {
    private let database: AsyncDatabase

    /// `connections`: rows written at once, at most.
    public init(conninfo: String, connections: Int = 4) {
        database = AsyncDatabase(conninfo: conninfo, connections: connections)
    }

    deinit { database.close() }

    public func record(_ call: LLMCallRecord) async throws -> LLMCallReceipt {
        try await database.run { connection in
            do {
                return try LLMCallStore.insert(call, on: connection)
            } catch let error as PostgresError where error.isConnectionLost {
                try connection.reconnect()
                return try LLMCallStore.insert(call, on: connection)
            }
        }
    }
}
