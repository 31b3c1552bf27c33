import PlanCore

/// Tokens a call used, as the provider reported them. `nil` means the provider did not say (a local
/// server that sends no usage chunk, a stream cut off before its usage event): unknown, never zero.
public struct LLMUsage: Sendable, Hashable {
    /// Every prompt token, cached ones included.
    public var inputTokens: Int?
    public var outputTokens: Int?
    /// Prompt tokens served from the provider's cache (Anthropic `cache_read_input_tokens`, OpenAI
    /// `prompt_tokens_details.cached_tokens`); part of `inputTokens`.
    public var cachedInputTokens: Int?
    /// Prompt tokens written to the cache (Anthropic `cache_creation_input_tokens`); part of `inputTokens`.
    public var cacheWriteInputTokens: Int?
    /// True when the provider reported no count for the input or the output and the client estimated
    /// it from the text (`LLMUsage.estimatedTokens`): the figures, and a cost from them, are estimates.
    public var isEstimated = false

    public init(inputTokens: Int? = nil, outputTokens: Int? = nil, cachedInputTokens: Int? = nil,
                cacheWriteInputTokens: Int? = nil) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens
        self.cacheWriteInputTokens = cacheWriteInputTokens
    }

    /// Nothing known.
    public static let unknown = LLMUsage()

    /// Tokens of a text by PlanCore's one rule (`TokenEstimate.tokens(in:)`): what a call's usage is
    /// estimated with when its provider reported none. Real tokenizers differ by model; the estimate is
    /// marked as such wherever shown.
    public static func estimatedTokens(of text: String) -> Int {
        TokenEstimate.tokens(in: text)
    }

    /// This usage with the counts the provider did not report estimated from the texts sent and
    /// received; unchanged when both are known.
    func filledByEstimate(prompt: @autoclosure () -> String, answer: String) -> LLMUsage {
        guard !isKnown else { return self }
        var usage = self
        if usage.inputTokens == nil {
            usage.inputTokens = Self.estimatedTokens(of: prompt())
            usage.cachedInputTokens = nil
        }
        if usage.outputTokens == nil { usage.outputTokens = Self.estimatedTokens(of: answer) }
        usage.isEstimated = true
        return usage
    }

    /// True when both the input and the output count are known.
    public var isKnown: Bool { inputTokens != nil && outputTokens != nil }

    /// "in 120 / out 48 / cached 0", with "?" for what the provider did not report.
    public var summary: String {
        func show(_ value: Int?) -> String { value.map(String.init) ?? "?" }
        var text = "in \(show(inputTokens)) / out \(show(outputTokens)) / cached \(show(cachedInputTokens))"
        if let written = cacheWriteInputTokens, written > 0 { text += " / cache-write \(written)" }
        if isEstimated { text += " (estimated)" }
        return text
    }
}
