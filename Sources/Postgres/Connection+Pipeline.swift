import CLibPQ
import Foundation

/// One statement of a pipeline: SQL and its parameters, as `Connection.query(_:_:)` takes them.
public struct PipelinedStatement {
    public var sql: String
    public var parameters: [any PostgresBindable]

    public init(_ sql: String, _ parameters: [any PostgresBindable] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}

extension Connection {
    /// Runs `statements` in one round trip, in order, and returns their results in the same order.
    /// Calls `PQenterPipelineMode`, `PQsendQueryParams` (or `PQsendPrepare` and `PQsendQueryPrepared`,
    /// as `query` prepares), `PQpipelineSync`, `PQgetResult` and `PQexitPipelineMode`.
    ///
    /// Outside a transaction the statements are one transaction (the extended protocol's implicit
    /// one, which the final Sync closes): all of them commit together or, when one fails, none does —
    /// the first failure is thrown with its statement's SQL and the ones after it do not run. Inside a
    /// transaction they run in it, and a failure aborts it as a failing `query` would.
    ///
    /// What this saves is waiting: a transaction of five statements costs one round trip instead of
    /// seven (with BEGIN and COMMIT), and any lock they take is held for the server's work alone, not
    /// across the client's round trips — which is what the executor's short per-atom transactions,
    /// all touching the same plan, were waiting on. Meant for statements with small results: the
    /// connection blocks while sending, so results must not fill the socket before the last is sent.
    @discardableResult
    public func pipeline(_ statements: [PipelinedStatement]) throws(PostgresError) -> [QueryResult] {
        guard !statements.isEmpty else { return [] }
        try ensureAlive()
        let outside = PQtransactionStatus(rawHandle) == PQTRANS_IDLE
        do {
            return try runPipeline(statements)
        } catch {
            // A statement the session no longer has prepared (DEALLOCATE, a table that changed shape)
            // was forgotten by runPipeline; outside a transaction nothing was kept, so run it all again.
            guard outside, error.sqlState == Self.undefinedPreparedStatement || error.sqlState == Self.featureNotSupported,
                  PQtransactionStatus(rawHandle) == PQTRANS_IDLE else { throw error }
            return try runPipeline(statements)
        }
    }

    /// What was sent, in order: each produces one result followed by a null from `PQgetResult`.
    private enum PipelineCommand {
        case prepare(statement: Int, name: String)
        case execute(statement: Int, preparedAs: String?)
    }

    private func runPipeline(_ statements: [PipelinedStatement]) throws(PostgresError) -> [QueryResult] {
        let handle = rawHandle
        let aborted = PQtransactionStatus(handle) == PQTRANS_INERROR
        guard PQenterPipelineMode(handle) == 1 else { throw connectionError("could not enter pipeline mode", sql: statements[0].sql) }
        // Every parameter is converted before anything is sent, so a value that cannot be sent runs nothing.
        let parameterTexts: [[String?]]
        do {
            parameterTexts = try statements.map { (statement) throws(PostgresError) -> [String?] in
                try Self.parameterTexts(statement.parameters, sql: statement.sql)
            }
        } catch {
            PQexitPipelineMode(handle)
            throw error
        }
        var commands: [PipelineCommand] = []
        for (index, statement) in statements.enumerated() {
            let cStrings: [UnsafeMutablePointer<CChar>?] = parameterTexts[index].map { $0.map { strdup($0) } ?? nil }
            defer { cStrings.forEach { free($0) } }
            let sent = cStrings.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { values -> Bool in
                    let count = Int32(values.count)
                    var name = preparedName(for: statement.sql)
                    if name == nil && !aborted && shouldPrepare(statement.sql) {
                        let fresh = nextStatementName()
                        guard PQsendPrepare(handle, fresh, statement.sql, count, nil) == 1 else { return false }
                        commands.append(.prepare(statement: index, name: fresh))
                        name = fresh
                    }
                    if let name {
                        guard PQsendQueryPrepared(handle, name, count, values.baseAddress, nil, nil, 0) == 1 else { return false }
                    } else {
                        guard PQsendQueryParams(handle, statement.sql, count, nil, values.baseAddress, nil, nil, 0) == 1 else { return false }
                    }
                    commands.append(.execute(statement: index, preparedAs: name))
                    return true
                }
            }
            if !sent {
                // No Sync was sent, so the server has committed none of it; a new session drops what
                // it received (and leaves pipeline mode).
                let failure = connectionError("could not send a statement to PostgreSQL", sql: statement.sql)
                try? reconnect()
                throw failure
            }
        }
        let synced = PQpipelineSync(handle) == 1
        var results: [QueryResult?] = Array(repeating: nil, count: statements.count)
        var failure: PostgresError?
        var position = 0
        var pending: OpaquePointer?
        var stale: [String] = []
        drain: while synced {
            guard let result = PQgetResult(handle) else {
                // The end of one command's results.
                if let current = pending {
                    pending = nil
                    if position < commands.count {
                        let outcome = record(current, for: commands[position], statements: statements, into: &results,
                                             stalePrepared: &stale)
                        if failure == nil { failure = outcome }
                    } else {
                        PQclear(current)
                    }
                }
                position += 1
                if PQstatus(handle) != CONNECTION_OK || position > commands.count + 1 {
                    if failure == nil { failure = connectionError("lost the connection to PostgreSQL", sql: statements[0].sql) }
                    break drain
                }
                continue
            }
            switch PQresultStatus(result) {
            case PGRES_PIPELINE_SYNC:
                PQclear(result)
                break drain
            default:
                if let earlier = pending { PQclear(earlier) }
                pending = result
            }
        }
        if let pending { PQclear(pending) }
        if PQexitPipelineMode(handle) != 1 {
            // Something is still queued (the connection broke mid-way): a fresh session is the only
            // clean state; the caller sees the original failure.
            try? reconnect()
        } else if PQtransactionStatus(handle) == PQTRANS_IDLE {
            for name in stale { _ = PQexec(handle, "DEALLOCATE \(name)").map(PQclear) }
        }
        if let failure { throw failure }
        if !synced { throw connectionError("lost the connection to PostgreSQL", sql: statements[0].sql) }
        return try results.enumerated().map { (index, result) throws(PostgresError) -> QueryResult in
            guard let result else { throw connectionError("no result for a pipelined statement", sql: statements[index].sql) }
            return result
        }
    }

    /// Files one command's result: a prepared statement is remembered, a statement's rows kept; the
    /// error (or nil) is returned. An aborted command (after an earlier error) is not an error of its own.
    private func record(_ result: OpaquePointer, for command: PipelineCommand, statements: [PipelinedStatement],
                        into results: inout [QueryResult?], stalePrepared: inout [String]) -> PostgresError? {
        let status = PQresultStatus(result)
        switch command {
        case .prepare(let statement, let name):
            defer { PQclear(result) }
            guard status == PGRES_COMMAND_OK else {
                return status == PGRES_PIPELINE_ABORTED ? nil : error(from: result, sql: statements[statement].sql)
            }
            rememberPrepared(statements[statement].sql, name: name)
            return nil
        case .execute(let statement, let preparedAs):
            switch status {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                results[statement] = QueryResult(result)
                return nil
            case PGRES_PIPELINE_ABORTED:
                PQclear(result)
                return nil
            default:
                let failure = error(from: result, sql: statements[statement].sql)
                PQclear(result)
                if let name = preparedAs, failure.sqlState == Self.undefinedPreparedStatement || failure.sqlState == Self.featureNotSupported {
                    forgetPrepared(statements[statement].sql)
                    // Planned for a shape the table no longer has: dropped once the pipeline is over.
                    if failure.sqlState == Self.featureNotSupported { stalePrepared.append(name) }
                }
                return failure
            }
        }
    }
}
