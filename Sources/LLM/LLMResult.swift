import Base

/// The end of a call: the whole answer and what it cost.
public struct LLMResult: Sendable, Hashable {
    /// The whole answer: plain text, or the JSON document when the request carried a schema.
    public var text: String
    public var stopReason: LLMStopReason
    public var usage: LLMUsage
    /// US dollars from the price table; `nil` when the model is not in the table or a token count is
    /// unknown (see `costNote`).
    public var costUSD: Double?
    /// Why `costUSD` is nil, in one sentence; nil when the cost is known.
    public var costNote: String?
    /// Wall-clock time from the first byte sent to the last byte received, retries and backoff included.
    public var latency: Duration
    /// The model that answered, as the provider named it (may be a dated snapshot of the configured one).
    public var model: String
    public var provider: LLMProvider
    /// The provider's id of the final HTTP request (`request-id` / `x-request-id`), when it sent one.
    public var providerRequestID: String?
    /// Provider failures (429, 5xx, connection errors, timeouts) retried before this answer.
    public var retries: Int
    /// How the structured answer was obtained, when the request carried a schema.
    public var structuredMode: StructuredOutputMode?
    /// True when the answer came from `masterplan replay-llm` (a scripted model, to be labelled so).
    public var isScripted: Bool

    public init(text: String, stopReason: LLMStopReason, usage: LLMUsage, costUSD: Double?, costNote: String?,
                latency: Duration, model: String, provider: LLMProvider, providerRequestID: String? = nil,
                retries: Int = 0, structuredMode: StructuredOutputMode? = nil, isScripted: Bool = false) {
        self.text = text
        self.stopReason = stopReason
        self.usage = usage
        self.costUSD = costUSD
        self.costNote = costNote
        self.latency = latency
        self.model = model
        self.provider = provider
        self.providerRequestID = providerRequestID
        self.retries = retries
        self.structuredMode = structuredMode
        self.isScripted = isScripted
    }

    /// Latency in whole milliseconds.
    public var latencyMilliseconds: Int { Int(max(0, latency.wholeMilliseconds)) }

    /// One line for operators: `model=… provider=… input_tokens=… output_tokens=… cached_tokens=…
    /// cost_usd=… latency_ms=… stop=…`; unknown values are written `unknown`.
    public var usageLine: String {
        func show(_ value: Int?) -> String { value.map(String.init) ?? "unknown" }
        let cost = costUSD.map { formatUSD($0) } ?? "unknown"
        var line = "model=\(model) provider=\(provider.rawValue) input_tokens=\(show(usage.inputTokens))"
            + " output_tokens=\(show(usage.outputTokens)) cached_tokens=\(show(usage.cachedInputTokens))"
            + " cost_usd=\(cost) latency_ms=\(latencyMilliseconds) stop=\(stopReason)"
        if usage.isEstimated { line += " usage=estimated" }
        if let structuredMode { line += " structured=\(structuredMode.rawValue)" }
        if retries > 0 { line += " retries=\(retries)" }
        if isScripted { line += " scripted=true" }
        if let costNote { line += " (\(costNote))" }
        return line
    }
}

/// What a stream of a call yields: text as it arrives, then the result.
public enum LLMStreamEvent: Sendable, Hashable {
    /// A piece of the answer, in order. For a structured request, pieces of the JSON document.
    case text(String)
    /// The last event: the whole answer and its usage. The stream finishes after it.
    case completed(LLMResult)
}

/// Dollars with six decimals, the precision of `llm_calls.cost_usd`.
func formatUSD(_ value: Double) -> String {
    let micro = Int64((value * 1_000_000).rounded())
    let whole = micro / 1_000_000
    let fraction = micro % 1_000_000
    let digits = String(fraction)
    return "\(whole)." + String(repeating: "0", count: 6 - digits.count) + digits
}
