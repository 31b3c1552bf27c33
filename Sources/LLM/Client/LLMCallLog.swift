import Foundation
import Postgres
import Store

/// Where every call's `llm_calls` row goes. The executor may supply its own (sharing its connection
/// pool); `PostgresLLMCallLog` is the ready-made one.
public protocol LLMCallLog: Sendable {
    /// Writes one row; returns what was written (including which unknown values became 0).
    func record(_ call: LLMCallRecord) async throws -> LLMCallStore.Inserted
}

/// Writes `llm_calls` rows through one PostgreSQL connection owned by a serial dispatch queue, so the
/// blocking libpq calls never run on Swift's cooperative thread pool. The connection opens on first
/// use and reconnects once when it was lost.
public final class PostgresLLMCallLog: LLMCallLog, @unchecked Sendable {
    // @unchecked Sendable: `connection` is read and written only inside `queue.async` blocks, and the
    // queue is serial, so it is never touched by two threads at once; `conninfo` and `queue` are `let`.
    private let conninfo: String
    private let queue = DispatchQueue(label: "masterplan.llm-calls")
    private var connection: Connection?

    public init(conninfo: String) {
        self.conninfo = conninfo
    }

    public func record(_ call: LLMCallRecord) async throws -> LLMCallStore.Inserted {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try self.insertOnQueue(call) })
            }
        }
    }

    private func insertOnQueue(_ call: LLMCallRecord) throws -> LLMCallStore.Inserted {
        do {
            return try LLMCallStore.insert(call, on: try openConnection())
        } catch let error as PostgresError where error.isConnectionLost {
            connection = nil
            return try LLMCallStore.insert(call, on: try openConnection())
        }
    }

    private func openConnection() throws -> Connection {
        if let connection { return connection }
        let opened = try Connection(conninfo)
        connection = opened
        return opened
    }
}
