import JSON

/// OpenAI's Chat Completions API at any base URL: `POST {base}/chat/completions`, streamed as
/// `data: {chunk}` events ending with `data: [DONE]`, usage in a last chunk with empty `choices` when
/// `stream_options.include_usage` is honoured. `Authorization: Bearer` only when a key is set.
///
/// Structured answers are asked for with OpenAI's `response_format: {type: "json_schema", …}` (for
/// api.openai.com with the schema reduced to the strict subset, `WireSchema`; other servers get it
/// whole, bounds and all, until one refuses a keyword); a server that refuses the form by naming it
/// (llama.cpp's answers HTTP 500 "'json_schema'") gets llama.cpp's own `{type: "json_object", schema}`
/// form, then plain `json_object`, then the schema in the prompt alone. An error that does not name the
/// form (a bare 500) is a server error for the retry policy, never a reason to step down.
///
/// Each request carries `X-MasterPlan-Purpose` and `X-MasterPlan-Key` headers: real servers ignore
/// them; `masterplan replay-llm` matches cassette entries by them.
struct OpenAIWire: ProviderWire {
    var provider: LLMProvider
    var baseURL: String
    var apiKey: String?

    var requestIDHeader: String { "x-request-id" }

    static let purposeHeader = "X-MasterPlan-Purpose"
    static let keyHeader = "X-MasterPlan-Key"

    func initialOptions(structured: Bool) -> WireOptions {
        // api.openai.com's current models refuse max_tokens; local servers mostly know only max_tokens.
        WireOptions(structuredMode: structured ? .jsonSchema : nil, sendTemperature: true,
                    maxTokensField: provider == .openai ? .maxCompletionTokens : .maxTokens, sendStreamOptions: true,
                    reducedSchema: provider == .openai)
    }

    func makeRequest(_ request: LLMRequest, model: String, options: WireOptions) throws(LLMRequestEncodingError) -> WireRequest {
        var system = request.system
        if let schema = request.jsonSchema, options.structuredMode?.schemaGoesInPrompt == true {
            system += schemaInstruction(schema)
        }
        var messages: [JSONValue] = []
        if !system.isEmpty { messages.append(["role": "system", "content": .string(system)]) }
        for message in request.flattenedMessages {
            messages.append(["role": .string(message.role.rawValue), "content": .string(message.content)])
        }
        var body: JSONObject = ["model": .string(model), "messages": .array(messages), "stream": true]
        if options.sendStreamOptions { body["stream_options"] = ["include_usage": true] }
        if options.sendTemperature { body["temperature"] = .double(min(2, max(0, request.temperature))) }
        switch options.maxTokensField {
        case .maxTokens: body["max_tokens"] = JSONValue(request.maxTokens)
        case .maxCompletionTokens: body["max_completion_tokens"] = JSONValue(request.maxTokens)
        }
        if let schema = request.jsonSchema {
            switch options.structuredMode {
            case .jsonSchema:
                let sent = options.reducedSchema ? WireSchema.reduced(schema, for: .openAIStrict) : schema
                body["response_format"] = ["type": "json_schema",
                                           "json_schema": ["name": .string(request.purpose.rawValue), "schema": sent, "strict": true]]
            case .jsonObjectWithSchema:
                body["response_format"] = ["type": "json_object", "schema": schema]
            case .jsonObject:
                body["response_format"] = ["type": "json_object"]
            default:
                break
            }
        }
        var headers: [(name: String, value: String)] = [
            ("content-type", "application/json"),
            ("accept", "text/event-stream"),
            (Self.purposeHeader, request.purpose.rawValue),
            (Self.keyHeader, Self.headerSafe(request.key)),
        ]
        if let apiKey { headers.append(("authorization", "Bearer \(apiKey)")) }
        return WireRequest(url: baseURL + "/chat/completions", headers: headers, body: try JSONValue.object(body).requestBytes())
    }

    /// A header value cannot hold control characters or (portably) non-ASCII: those are
    /// percent-encoded, as is `%` itself; the replay server decodes them.
    static func headerSafe(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            if byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "%") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    /// Inverse of `headerSafe`.
    static func headerDecoded(_ value: String) -> String {
        var bytes: [UInt8] = []
        var index = value.utf8.startIndex
        let utf8 = value.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), let end = utf8.index(index, offsetBy: 3, limitedBy: utf8.endIndex),
               let decoded = UInt8(String(decoding: utf8[utf8.index(after: index)..<end], as: UTF8.self), radix: 16) {
                bytes.append(decoded)
                index = end
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func makeDecoder(for request: LLMRequest, options: WireOptions) -> any WireStreamDecoder {
        var decoder = OpenAIStreamDecoder()
        decoder.structured = request.jsonSchema != nil
        decoder.maxTokens = request.maxTokens
        return decoder
    }

    func adjustedOptions(after failure: ProviderFailure, current: WireOptions) -> WireOptions? {
        // A full context window is not about the request's form: nothing to adjust.
        if failure.isContextWindow { return nil }
        let text = failure.searchableText
        var next = current
        if failure.status == 400 || failure.status == 422 {
            if current.sendTemperature, text.contains("temperature") {
                next.sendTemperature = false
                return next
            }
            let refusesParameter = ["unsupported", "not supported", "unrecognized", "unknown", "extra", "not permitted",
                                    "instead"].contains { text.contains($0) }
            if current.maxTokensField == .maxTokens, text.contains("max_tokens"), refusesParameter {
                next.maxTokensField = .maxCompletionTokens
                return next
            }
            if current.maxTokensField == .maxCompletionTokens, text.contains("max_completion_tokens"), refusesParameter {
                next.maxTokensField = .maxTokens
                return next
            }
            if current.sendStreamOptions, text.contains("stream_options") {
                next.sendStreamOptions = false
                return next
            }
        }
        // A structured form the server refuses by naming it, at any status (llama.cpp answers 500): first
        // the whole schema's bounds, then the next form down. A bare 500 names nothing and is retried.
        guard let mode = current.structuredMode, mode != .promptOnly, ![401, 403, 408, 429].contains(failure.status),
              !failure.isContextWindow else { return nil }
        if mode == .jsonSchema, !current.reducedSchema, failure.names(anyOf: Self.boundKeywords) {
            next.reducedSchema = true
            return next
        }
        guard failure.names(anyOf: Self.structuredTerms) else { return nil }
        let ladder = StructuredOutputMode.ladder(for: provider)
        guard let position = ladder.firstIndex(of: mode), position + 1 < ladder.count else { return nil }
        next.structuredMode = ladder[position + 1]
        return next
    }

    /// Words in an error that name a structured-output parameter or feature.
    private static let structuredTerms = ["response_format", "json_schema", "schema", "strict", "grammar", "json_object",
                                          "guided_json", "guided decoding", "structured output", "structured outputs"]
    /// Schema keywords OpenAI's strict mode refuses, as its error names them ("'maxLength' is not permitted").
    private static let boundKeywords = ["minLength", "maxLength", "minProperties", "maxProperties", "uniqueItems",
                                        "patternProperties", "propertyNames", "minContains", "maxContains",
                                        "prefixItems", "not permitted"]
}

/// Decodes Chat Completions chunks.
struct OpenAIStreamDecoder: WireStreamDecoder {
    var structured = false
    /// The request's token limit: a `length` stop with fewer completion tokens is the server's
    /// context window, not this limit.
    var maxTokens: Int?

    private(set) var isFinished = false
    private var model: String?
    private var finishReason: String?
    private var refusal = ""
    private(set) var usage = LLMUsage.unknown

    private static let done = Array("[DONE]".utf8)

    mutating func consume(_ event: ServerSentEvent) throws(WireFailure) -> [String] {
        try consume(event, readingDirectly: true)
    }

    /// `consume` without `OpenAIChunkReader`: every chunk parsed in full, as the reader's tests need.
    mutating func consumeParsingInFull(_ event: ServerSentEvent) throws(WireFailure) -> [String] {
        try consume(event, readingDirectly: false)
    }

    private mutating func consume(_ event: ServerSentEvent, readingDirectly: Bool) throws(WireFailure) -> [String] {
        let bytes = Self.trimmed(event)
        if bytes.elementsEqual(Self.done) {
            isFinished = true
            return []
        }
        if bytes.isEmpty { return [] }
        if readingDirectly, let chunk = OpenAIChunkReader.read(bytes, wantsModel: model == nil) {
            return take(chunk)
        }
        var data: String { String(decoding: bytes, as: UTF8.self) } // for error messages only
        let json: JSONValue
        do {
            json = try ServerSentEvent.parseJSON(bytes)
        } catch {
            throw .malformed("a stream chunk is not JSON (\(error.message)): \(excerpt(data))")
        }
        guard json.objectValue != nil else { throw .malformed("a stream chunk is not a JSON object: \(excerpt(data))") }
        if let error = json["error"], !error.isNull {
            let message = error["message"]?.stringValue ?? error.stringValue ?? error.jsonText
            let type = error["type"]?.stringValue
            let retryable = ["server_error", "overloaded_error", "rate_limit_exceeded"].contains(type ?? "")
            throw .provider(type: type, message: message, retryable: retryable)
        }
        if model == nil { model = json["model"]?.stringValue }
        if let usage = json["usage"], usage.objectValue != nil { readUsage(usage) }
        guard let choices = json["choices"] else { return [] }
        guard let list = choices.arrayValue else { throw .malformed("\"choices\" is not an array: \(excerpt(data))") }
        var pieces: [String] = []
        for choice in list where (choice["index"]?.countValue ?? 0) == 0 {
            if let delta = choice["delta"], !delta.isNull {
                if delta.objectValue == nil { throw .malformed("\"delta\" is not an object: \(excerpt(data))") }
                if let content = delta["content"], !content.isNull {
                    guard let text = content.stringValue else { throw .malformed("delta.content is not a string: \(excerpt(data))") }
                    if !text.isEmpty { pieces.append(text) }
                }
                if let text = delta["refusal"]?.stringValue { refusal += text }
            }
            if let reason = choice["finish_reason"]?.stringValue { finishReason = reason }
        }
        return pieces
    }

    /// What the full parse below takes from a chunk, from the reader's reading of it.
    private mutating func take(_ chunk: OpenAIChunkReader.Chunk) -> [String] {
        if model == nil { model = chunk.model }
        guard let choices = chunk.choices else { return [] }
        var pieces: [String] = []
        for choice in choices where choice.index == 0 {
            if let delta = choice.delta {
                if let text = delta.content, !text.isEmpty { pieces.append(text) }
                if let text = delta.refusal { refusal += text }
            }
            if let reason = choice.finishReason { finishReason = reason }
        }
        return pieces
    }

    /// The event's data without the white space around it (`trimmingCharacters(in: .whitespaces)`), read
    /// on the bytes: spaces and tabs are the only ASCII white space in that set, so Foundation, which
    /// costs more than parsing the chunk, is asked only when a non-ASCII byte is left at either end.
    private static func trimmed(_ event: ServerSentEvent) -> ArraySlice<UInt8> {
        let bytes = event.dataBytes
        var start = bytes.startIndex, end = bytes.endIndex
        while start < end, bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t") { start += 1 }
        while end > start, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        if start < end, bytes[start] >= 0x80 || bytes[end - 1] >= 0x80 {
            // Perhaps U+00A0, U+3000 or another space outside ASCII.
            return ArraySlice(event.data.trimmingCharacters(in: .whitespaces).utf8)
        }
        return bytes[start..<end]
    }

    private mutating func readUsage(_ json: JSONValue) {
        if let value = json["prompt_tokens"]?.countValue { usage.inputTokens = value }
        if let value = json["completion_tokens"]?.countValue { usage.outputTokens = value }
        if let value = json["prompt_tokens_details"]?["cached_tokens"]?.countValue { usage.cachedInputTokens = value }
    }

    mutating func consumeWholeAnswer(_ body: [UInt8]) throws(WireFailure) -> [String] {
        let json: JSONValue
        do {
            json = try JSONValue.parse(body, options: JSONParseOptions(allowControlCharactersInStrings: true))
        } catch {
            throw .malformed("the answer is not JSON (\(error.message))")
        }
        if let error = json["error"], !error.isNull {
            throw .provider(type: error["type"]?.stringValue,
                            message: error["message"]?.stringValue ?? error.jsonText, retryable: false)
        }
        guard let choice = json["choices"]?[0] else { throw .malformed("the answer has no choices") }
        model = json["model"]?.stringValue
        if let usage = json["usage"], usage.objectValue != nil { readUsage(usage) }
        finishReason = choice["finish_reason"]?.stringValue
        if let text = choice["message"]?["refusal"]?.stringValue { refusal = text }
        isFinished = true
        let content = choice["message"]?["content"]?.stringValue ?? ""
        return content.isEmpty ? [] : [content]
    }

    func outcome() throws(WireFailure) -> WireOutcome {
        guard let finishReason else {
            throw .cutOff(isFinished
                ? "the stream ended with [DONE] but no finish_reason: the server cut the answer short (a local server does this when a second request interrupts it)"
                : "the stream ended before any finish_reason")
        }
        let reason = LLMStopReason(openAI: finishReason)
        if reason == .maxTokens, let maxTokens, let completion = usage.outputTokens, completion < maxTokens {
            // Structured or not, the answer is incomplete, and a larger max_tokens would not help.
            throw .contextWindow("the server stopped the answer at its context window (finish_reason \"length\" after \(completion) of the \(maxTokens) tokens allowed); shorten the prompt or give the server a larger context")
        }
        if structured, reason == .maxTokens {
            throw .truncated("the structured answer stopped at the token limit (finish_reason \"length\"), so its JSON is incomplete; raise maxTokens or ask for less")
        }
        if structured, !refusal.isEmpty {
            throw .refused("the model refused: \(excerpt(refusal))")
        }
        if structured, reason == .refusal {
            throw .refused("the provider's content filter stopped the answer (finish_reason content_filter)")
        }
        return WireOutcome(stopReason: reason, usage: usage, model: model, trailingText: nil)
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
