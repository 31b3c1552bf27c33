import Foundation

/// Where every call's record goes. The client only reports; what stores it is the application's
/// (Store's `PostgresLLMCallLog` writes `llm_calls` rows).
public protocol LLMCallLog: Sendable {
    /// Writes one row; returns what was written (including which values were unknown).
    func record(_ call: LLMCallRecord) async throws -> LLMCallReceipt
}
