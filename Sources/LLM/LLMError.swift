
/// Why a call failed, with the provider's own words when it gave any. `description` is one sentence
/// for an operator; it never contains a key or a request body.
public struct LLMError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The provider answered with an HTTP error status (4xx other than 408/429, or a 5xx after retries).
        case http(status: Int)
        /// 429 after every retry.
        case rateLimited
        /// The account's quota, credit or spend limit is reached (a 429 that is not a rate limit):
        /// not retried, since waiting does not fix it.
        case quotaExhausted
        /// The connection failed or broke before any answer arrived, after every retry.
        case connection
        /// No byte arrived within the read timeout, or the whole call exceeded its deadline.
        case timeout
        /// The answer started streaming and then stopped before the provider said it was complete
        /// (connection lost, no `finish_reason`, no `message_stop`): never a short answer.
        case streamCutOff
        /// A stream event that is not what the protocol allows (unparsable JSON, wrong shape).
        case malformedStream
        /// The provider sent an error in the middle of the stream (Anthropic `event: error`).
        case providerStreamError
        /// A structured answer hit `maxTokens`: the JSON is truncated.
        case truncatedJSON
        /// The prompt and the answer do not fit the model's context window: the request was refused
        /// for its size, or the answer stopped when the window was full. Asking again the same way fails
        /// the same way; a larger `maxTokens` does not help.
        case contextWindow
        /// The model refused, or the provider's filter stopped the answer.
        case refused
        /// A structured answer arrived complete but is not a document that follows the schema: never a
        /// success. `answer` holds it (and what it cost), so a caller can send the violations back.
        case invalidAnswer
        /// The task was cancelled.
        case cancelled
    }

    public var kind: Kind
    /// What happened, in one sentence.
    public var message: String
    /// The provider's own error message, verbatim (e.g. Anthropic's `error.message`).
    public var providerMessage: String?
    /// The provider's error type (`invalid_request_error`, `overloaded_error`, …).
    public var providerErrorType: String?
    public var provider: LLMProvider
    public var model: String
    /// Provider failures retried before this error.
    public var retries: Int
    /// Usage the provider reported before failing (a cut stream may have reported its input tokens).
    public var usage: LLMUsage
    /// True when answer text had already been streamed to the caller before the failure.
    public var partialAnswerDelivered: Bool
    /// For `.invalidAnswer`: the whole answer as it arrived, with its usage and cost.
    public var answer: LLMResult?
    /// For `.invalidAnswer`: how the answer breaks the schema, one sentence each (fit to send back to
    /// the model).
    public var violations: [String]

    public init(kind: Kind, message: String, providerMessage: String? = nil, providerErrorType: String? = nil,
                provider: LLMProvider, model: String, retries: Int = 0, usage: LLMUsage = .unknown,
                partialAnswerDelivered: Bool = false, answer: LLMResult? = nil, violations: [String] = []) {
        self.kind = kind
        self.message = message
        self.providerMessage = providerMessage
        self.providerErrorType = providerErrorType
        self.provider = provider
        self.model = model
        self.retries = retries
        self.usage = usage
        self.partialAnswerDelivered = partialAnswerDelivered
        self.answer = answer
        self.violations = violations
    }

    /// True for failures of the provider rather than of the request or the answer (timeouts, rate
    /// limits, connection loss, 5xx, a cut stream): worth running again without counting an attempt.
    public var isTransient: Bool {
        switch kind {
        case .rateLimited, .connection, .timeout, .streamCutOff, .providerStreamError: true
        case .http(let status): status >= 500 || status == 408
        case .malformedStream, .truncatedJSON, .contextWindow, .refused, .cancelled, .quotaExhausted, .invalidAnswer: false
        }
    }

    /// The first line of the provider's message, at most 300 characters: what a plan's reason quotes.
    public var providerMessageLine: String? {
        guard let providerMessage else { return nil }
        let line = providerMessage.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !line.isEmpty else { return nil }
        return line.count > 300 ? String(line.prefix(300)) + "…" : line
    }

    /// The `llm_calls.status` this failure is recorded with.
    public var callStatus: LLMCallRecord.Status {
        switch kind {
        case .timeout: .timeout
        case .cancelled: .cancelled
        default: .error
        }
    }

    public var description: String {
        var text = "\(provider.rawValue) \(model): \(message)"
        if let line = providerMessageLine, !message.contains(line) {
            text += ": \(line)"
        }
        if retries > 0 { text += " (after \(retries) \(retries == 1 ? "retry" : "retries"))" }
        return text
    }
}
