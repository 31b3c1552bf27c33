import JSON

/// An HTTP request ready to send: the provider-specific part of a call.
struct WireRequest: Sendable {
    var url: String
    /// Header names and values; the key header is among them and must never be logged.
    var headers: [(name: String, value: String)]
    var body: [UInt8]
}

/// The knobs a client may turn when a server refuses part of a request; remembered once a request
/// with them succeeds.
struct WireOptions: Sendable, Hashable {
    enum MaxTokensField: Sendable, Hashable { case maxTokens, maxCompletionTokens }

    /// Nil for plain-text requests.
    var structuredMode: StructuredOutputMode?
    /// Some models refuse any non-default sampling parameter (HTTP 400 naming `temperature`).
    var sendTemperature = true
    /// OpenAI's newer models want `max_completion_tokens`; most compatible servers know only `max_tokens`.
    var maxTokensField: MaxTokensField = .maxTokens
    /// A few compatible servers reject the unknown `stream_options` member.
    var sendStreamOptions = true
    /// Anthropic: `system` and the shared context as content blocks with `cache_control` (prompt
    /// caching); false sends both as plain strings, for servers behind gateways that refuse blocks.
    var contentBlocks = true
    /// OpenAI's `json_schema` form: the schema reduced to the strict subset (`WireSchema`), bounds moved
    /// into descriptions. api.openai.com needs it; vLLM and other compatible servers enforce the whole
    /// schema, so they get it whole until one refuses a keyword.
    var reducedSchema = false
}

/// The error body of a non-2xx answer, in the provider's words.
struct ProviderFailure: Sendable, Hashable {
    var status: Int
    /// The provider's message (`error.message`, `detail`, or the start of the body).
    var message: String?
    /// `error.type` (`invalid_request_error`, `overloaded_error`, …).
    var type: String?
    /// OpenAI's `error.param`, naming the parameter at fault.
    var param: String?
    var code: String?

    /// True when the error says the account's quota, credit or spend limit is used up (OpenAI
    /// `insufficient_quota`, a gateway's budget or spend cap, a billing hard limit): no retry helps.
    var isSpentQuota: Bool {
        let text = searchableText
        return ["insufficient_quota", "quota exceeded", "exceeded your current quota", "billing", "budget", "spend limit",
                "spending limit", "spend cap", "credit balance", "out of credits", "insufficient credits"].contains { text.contains($0) }
    }

    /// Message, type, param and code, lower-cased, for matching the parameter a server refused.
    var searchableText: String {
        [message, type, param, code].compactMap { $0 }.joined(separator: " ").lowercased()
    }

    /// True when any of `terms` occurs in the searchable text as a whole word (letters, digits and `_`
    /// around it do not count): "strict" matches `tools.0.strict` but not "restricted".
    func names(anyOf terms: [String]) -> Bool {
        let text = searchableText
        func isWordByte(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F
        }
        let bytes = Array(text.utf8)
        for term in terms {
            let needle = Array(term.lowercased().utf8)
            var searchStart = 0
            while let range = bytes[searchStart...].firstRange(of: needle) {
                let beforeOK = range.lowerBound == 0 || !isWordByte(bytes[range.lowerBound - 1])
                let afterOK = range.upperBound == bytes.count || !isWordByte(bytes[range.upperBound])
                if beforeOK && afterOK { return true }
                searchStart = range.lowerBound + 1
            }
        }
        return false
    }

    /// The request did not fit the model's context window (prompt plus `max_tokens`): OpenAI's
    /// `context_length_exceeded`, llama.cpp's `exceed_context_size_error` ("the request exceeds the
    /// available context size"), vLLM's "maximum context length is N tokens", Anthropic's "prompt is
    /// too long" and "exceed context limit". A larger `max_tokens` or another structured form would not
    /// help; a shorter prompt or a model with a larger window would.
    var isContextWindow: Bool {
        let text = searchableText
        return ["context_length_exceeded", "exceed_context_size_error", "exceeds the available context size",
                "maximum context length", "prompt is too long", "exceed context limit", "context window exceeded",
                "model_context_window_exceeded", "context length exceeded"].contains { text.contains($0) }
    }

    /// Reads the usual error shapes: `{"error": {"message", "type", "param", "code"}}` (OpenAI,
    /// Anthropic, llama.cpp, vLLM), `{"message": …}`, `{"detail": …}` (FastAPI); otherwise the start of
    /// the body as text.
    static func parse(status: Int, body: [UInt8]) -> ProviderFailure {
        var failure = ProviderFailure(status: status)
        if let json = try? JSONValue.parse(body) {
            let error = json["error"]
            if let object = error, object.objectValue != nil {
                failure.message = object["message"]?.stringValue
                failure.type = object["type"]?.stringValue
                failure.param = object["param"]?.stringValue
                failure.code = object["code"]?.stringValue ?? object["code"]?.intValue.map { String($0) }
            } else if let text = error?.stringValue {
                failure.message = text
            }
            if failure.message == nil { failure.message = json["message"]?.stringValue }
            if failure.message == nil, let detail = json["detail"] {
                failure.message = detail.stringValue ?? detail.jsonText
            }
            if failure.type == nil { failure.type = json["type"]?.stringValue }
        }
        if failure.message == nil {
            let text = String(decoding: body.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            failure.message = text.isEmpty ? nil : text
        }
        return failure
    }
}

/// What went wrong inside an answer stream.
enum WireFailure: Error, Sendable {
    /// Bytes or JSON the protocol does not allow.
    case malformed(String)
    /// The provider reported an error inside the stream; `retryable` for overload and internal errors.
    case provider(type: String?, message: String, retryable: Bool)
    /// The stream ended before the provider said the answer was complete.
    case cutOff(String)
    /// A structured answer stopped at the token limit.
    case truncated(String)
    /// The answer stopped, or the request was refused, because the model's context window is full.
    case contextWindow(String)
    /// The model refused a structured answer.
    case refused(String)
}

/// The end of an answer stream, as the provider described it.
struct WireOutcome: Sendable {
    var stopReason: LLMStopReason
    var usage: LLMUsage
    var model: String?
    /// Text to deliver after the stream (an Anthropic tool input that arrived whole).
    var trailingText: String?
}

/// Turns one provider's events into answer text and an outcome.
protocol WireStreamDecoder {
    /// Consumes one event; returns answer text to deliver, in order.
    mutating func consume(_ event: ServerSentEvent) throws(WireFailure) -> [String]
    /// Consumes a whole non-streamed JSON answer (a server that ignored `stream: true`).
    mutating func consumeWholeAnswer(_ body: [UInt8]) throws(WireFailure) -> [String]
    /// True once the provider's terminal event arrived (`[DONE]`, `message_stop`).
    var isFinished: Bool { get }
    /// Usage known so far (for errors after a partial stream).
    var usage: LLMUsage { get }
    /// Checks that the answer is complete and returns how it ended.
    func outcome() throws(WireFailure) -> WireOutcome
}

/// One provider's HTTP dialect.
protocol ProviderWire: Sendable {
    var provider: LLMProvider { get }
    /// The response header carrying the provider's request id.
    var requestIDHeader: String { get }
    func makeRequest(_ request: LLMRequest, model: String, options: WireOptions) throws(LLMRequestEncodingError) -> WireRequest
    func makeDecoder(for request: LLMRequest, options: WireOptions) -> any WireStreamDecoder
    /// The options to try after `failure`, or nil when nothing about the request should change.
    func adjustedOptions(after failure: ProviderFailure, current: WireOptions) -> WireOptions?
    /// The options a first request starts with.
    func initialOptions(structured: Bool) -> WireOptions
}

/// A request that cannot be encoded (a schema that is not serialisable JSON).
struct LLMRequestEncodingError: Error, Sendable {
    var message: String
}

extension JSONValue {
    /// Compact JSON bytes, for request bodies.
    func requestBytes() throws(LLMRequestEncodingError) -> [UInt8] {
        do {
            return try serializedBytes(.compact)
        } catch {
            throw LLMRequestEncodingError(message: "the request cannot be written as JSON: \(error.message)")
        }
    }

    /// An integer member that may be written as a JSON number with a fraction (some servers do).
    var countValue: Int? {
        if let int = intValue { return Int(int) }
        if let double = doubleValue, double.isFinite, double >= 0 { return Int(double) }
        return nil
    }
}

/// The instruction appended to the system prompt when the provider does not enforce the schema.
func schemaInstruction(_ schema: JSONValue) -> String {
    let text = (try? schema.serialized(.pretty)) ?? schema.jsonText
    return """


        Answer with exactly one JSON document and nothing else: no prose before or after it, no Markdown code \
        fence. The document must conform to this JSON Schema (every listed member is required; no other members):
        \(text)
        """
}

/// The first 200 characters of a text, for error messages about malformed data.
func excerpt(_ text: String, limit: Int = 200) -> String {
    text.count <= limit ? text : String(text.prefix(limit)) + "…"
}
