import Foundation
import LLM
import Postgres

/// A row read back from `llm_calls`: the record as written (a cost read back from numeric(14,6) as text
/// and converted; nil when unknown), its id and when it was written.
@dynamicMemberLookup
public struct StoredLLMCall: Sendable, Hashable {
    public var id: UUID
    public var record: LLMCallRecord
    public var createdAt: Date

    public subscript<Value>(dynamicMember path: KeyPath<LLMCallRecord, Value>) -> Value { record[keyPath: path] }
}

/// The SQL of the `llm_calls` ledger. Each insert is its own short statement (the table comment asks
/// for one short transaction per row); the `llm_calls_add_cost` trigger adds the cost to the plan.
public enum LLMCallStore {
    /// Inserts one call. Calls `INSERT INTO llm_calls … RETURNING id`.
    @discardableResult
    public static func insert(_ record: LLMCallRecord, on connection: Connection) throws -> LLMCallReceipt {
        var unknown: [String] = []
        if record.inputTokens == nil { unknown.append("input_tokens") }
        if record.outputTokens == nil { unknown.append("output_tokens") }
        if record.cachedTokens == nil { unknown.append("cached_tokens") }
        if record.costUSD == nil { unknown.append("cost_usd") }
        // The CHECK demands an error text for status 'error' and none for 'ok'.
        let error: String? = switch record.status {
        case .ok: nil
        case .error: (record.error?.isEmpty ?? true) ? "unknown error" : record.error
        case .timeout, .cancelled: record.error
        }
        let row = try connection.query("""
            INSERT INTO llm_calls (owner_id, plan_id, job_id, conversation_id, purpose, provider, model,
                                   input_tokens, output_tokens, cached_tokens, cost_usd, usage_estimated, latency_ms, status,
                                   error, provider_request_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::numeric, $12, $13, $14, $15, $16)
            RETURNING id
            """, [
                record.ownerID, record.planID, record.jobID, record.conversationID, record.purpose, record.provider,
                record.model, record.inputTokens.map { max(0, $0) }, record.outputTokens.map { max(0, $0) },
                record.cachedTokens.map { max(0, $0) }, record.costUSD.map { max(0, $0) }, record.usageEstimated,
                max(0, record.latencyMilliseconds), record.status.rawValue, error, record.providerRequestID,
            ]).first!
        return LLMCallReceipt(id: try row.decode(UUID.self, 0), unknownColumns: unknown)
    }

    /// The calls of a plan, oldest first.
    public static func calls(planID: UUID, on connection: Connection) throws -> [StoredLLMCall] {
        try read(connection.query("\(selectColumns) WHERE plan_id = $1 ORDER BY created_at, id", [planID]))
    }

    /// The most recent calls (any plan), newest first.
    public static func recent(limit: Int, on connection: Connection) throws -> [StoredLLMCall] {
        try read(connection.query("\(selectColumns) ORDER BY created_at DESC, id LIMIT $1", [limit]))
    }

    /// One call by id.
    public static func call(id: UUID, on connection: Connection) throws -> StoredLLMCall? {
        try read(connection.query("\(selectColumns) WHERE id = $1", [id])).first
    }

    private static let selectColumns = """
        SELECT id, owner_id, plan_id, job_id, conversation_id, purpose, provider, model, input_tokens, output_tokens,
               cached_tokens, cost_usd::text, usage_estimated, latency_ms, status, error, provider_request_id, created_at
        FROM llm_calls
        """

    private static func read(_ result: QueryResult) throws -> [StoredLLMCall] {
        try result.rows.map { row in
            let statusWord = try row.decode(String.self, "status")
            guard let status = LLMCallRecord.Status(rawValue: statusWord) else {
                throw PostgresError(kind: .decoding, message: "llm_calls.status has the unknown value \(statusWord)")
            }
            let record = LLMCallRecord(
                ownerID: try row.decode(UUID?.self, "owner_id"),
                planID: try row.decode(UUID?.self, "plan_id"),
                jobID: try row.decode(UUID?.self, "job_id"),
                conversationID: try row.decode(UUID?.self, "conversation_id"),
                purpose: try row.decode(String.self, "purpose"),
                provider: try row.decode(String.self, "provider"),
                model: try row.decode(String.self, "model"),
                inputTokens: try row.decode(Int?.self, "input_tokens"),
                outputTokens: try row.decode(Int?.self, "output_tokens"),
                cachedTokens: try row.decode(Int?.self, "cached_tokens"),
                costUSD: try row.decode(Double?.self, "cost_usd"),
                usageEstimated: try row.decode(Bool.self, "usage_estimated"),
                latencyMilliseconds: try row.decode(Int.self, "latency_ms"),
                status: status,
                error: try row.decode(String?.self, "error"),
                providerRequestID: try row.decode(String?.self, "provider_request_id"))
            return StoredLLMCall(id: try row.decode(UUID.self, "id"), record: record, createdAt: try row.decode(Date.self, "created_at"))
        }
    }
}
