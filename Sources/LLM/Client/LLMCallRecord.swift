import Foundation

/// What the client reports about one call, for the `llm_calls` cost ledger (Migrations/0003), written
/// through an `LLMCallLog`.
///
/// Token counts and cost are optional because a provider may not report them (a local server that sends
/// no usage, a model missing from the price table). An unknown value is stored as NULL (migration
/// 0007), never as 0, and `LLMCallReceipt.unknownColumns` names the columns that were unknown
/// (`masterplan llm ask` prints "unknown"). When the provider reported nothing and the client estimated the
/// tokens from the text instead, `usageEstimated` says so (migration 0017), and every total that includes
/// the row says "estimated" (`UsageQueries`, the plan's `actual_cost_estimated`).
public struct LLMCallRecord: Sendable, Hashable {
    /// The values of `llm_calls.status`.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case ok, error, timeout, cancelled
    }

    public var ownerID: UUID?
    public var planID: UUID?
    public var jobID: UUID?
    public var conversationID: UUID?
    /// One of the words of `llm_calls_purpose_check`.
    public var purpose: String
    /// `anthropic`, `openai` or `openai-compatible`.
    public var provider: String
    public var model: String
    public var inputTokens: Int?
    public var outputTokens: Int?
    public var cachedTokens: Int?
    public var costUSD: Double?
    /// The token counts (and the cost computed from them) are an estimate from the text, because the
    /// provider reported none (`llm_calls.usage_estimated`).
    public var usageEstimated: Bool
    public var latencyMilliseconds: Int
    public var status: Status
    /// Required when `status` is `error`, forbidden when it is `ok` (`llm_calls_error_check`).
    public var error: String?
    public var providerRequestID: String?

    public init(ownerID: UUID? = nil, planID: UUID? = nil, jobID: UUID? = nil, conversationID: UUID? = nil,
                purpose: String, provider: String, model: String, inputTokens: Int?, outputTokens: Int?,
                cachedTokens: Int?, costUSD: Double?, usageEstimated: Bool = false, latencyMilliseconds: Int,
                status: Status, error: String? = nil, providerRequestID: String? = nil) {
        self.ownerID = ownerID
        self.planID = planID
        self.jobID = jobID
        self.conversationID = conversationID
        self.purpose = purpose
        self.provider = provider
        self.model = model
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedTokens = cachedTokens
        self.costUSD = costUSD
        self.usageEstimated = usageEstimated
        self.latencyMilliseconds = latencyMilliseconds
        self.status = status
        self.error = error
        self.providerRequestID = providerRequestID
    }
}

/// What a call log wrote for one `LLMCallRecord`.
public struct LLMCallReceipt: Sendable, Hashable {
    /// The row's id.
    public var id: UUID
    /// Columns whose value was unknown and stored as NULL: any of `input_tokens`, `output_tokens`,
    /// `cached_tokens`, `cost_usd`.
    public var unknownColumns: [String]

    public init(id: UUID, unknownColumns: [String]) {
        self.id = id
        self.unknownColumns = unknownColumns
    }
}
