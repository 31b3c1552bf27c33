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

    public init(inputTokens: Int? = nil, outputTokens: Int? = nil, cachedInputTokens: Int? = nil,
                cacheWriteInputTokens: Int? = nil) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens
        self.cacheWriteInputTokens = cacheWriteInputTokens
    }

    /// Nothing known.
    public static let unknown = LLMUsage()

    /// True when both the input and the output count are known.
    public var isKnown: Bool { inputTokens != nil && outputTokens != nil }

    /// "in 120 / out 48 / cached 0", with "?" for what the provider did not report.
    public var summary: String {
        func show(_ value: Int?) -> String { value.map(String.init) ?? "?" }
        var text = "in \(show(inputTokens)) / out \(show(outputTokens)) / cached \(show(cachedInputTokens))"
        if let written = cacheWriteInputTokens, written > 0 { text += " / cache-write \(written)" }
        return text
    }
}
