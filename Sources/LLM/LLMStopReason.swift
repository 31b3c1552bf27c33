/// Why the model stopped, normalised across providers.
public enum LLMStopReason: Sendable, Hashable, CustomStringConvertible {
    /// The model finished its answer (Anthropic `end_turn`, OpenAI `stop`).
    case endTurn
    /// The answer hit `maxTokens` (Anthropic `max_tokens`, OpenAI `length`): it is incomplete.
    case maxTokens
    /// The answer stopped because the prompt and the answer filled the model's context window
    /// (Anthropic `model_context_window_exceeded`; an OpenAI-compatible server's `length` before
    /// `maxTokens` was reached): it is incomplete, and a larger `maxTokens` would not help.
    case contextWindow
    /// A stop sequence ended the answer.
    case stopSequence
    /// The structured-output tool was called (Anthropic `tool_use`, OpenAI `tool_calls`): the normal
    /// end of a structured answer.
    case toolUse
    /// The provider's safety system stopped or refused the answer (Anthropic `refusal`, OpenAI `content_filter`).
    case refusal
    /// Any other reason, as the provider spelled it.
    case other(String)

    /// Maps Anthropic's `stop_reason`.
    public init(anthropic value: String) {
        switch value {
        case "end_turn": self = .endTurn
        case "max_tokens": self = .maxTokens
        case "model_context_window_exceeded": self = .contextWindow
        case "stop_sequence": self = .stopSequence
        case "tool_use": self = .toolUse
        case "refusal": self = .refusal
        default: self = .other(value)
        }
    }

    /// Maps OpenAI's `finish_reason`.
    public init(openAI value: String) {
        switch value {
        case "stop": self = .endTurn
        case "length": self = .maxTokens
        case "tool_calls", "function_call": self = .toolUse
        case "content_filter": self = .refusal
        default: self = .other(value)
        }
    }

    public var description: String {
        switch self {
        case .endTurn: "end_turn"
        case .maxTokens: "max_tokens"
        case .contextWindow: "context_window"
        case .stopSequence: "stop_sequence"
        case .toolUse: "tool_use"
        case .refusal: "refusal"
        case .other(let value): value
        }
    }

    /// The OpenAI `finish_reason` word for this reason (used by the replay server).
    public var openAIFinishReason: String {
        switch self {
        case .endTurn, .toolUse: "stop"
        case .maxTokens, .contextWindow: "length"
        case .stopSequence: "stop"
        case .refusal: "content_filter"
        case .other(let value): value
        }
    }
}
