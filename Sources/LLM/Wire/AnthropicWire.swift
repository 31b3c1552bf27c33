import JSON

/// Anthropic's Messages API: `POST {base}/v1/messages` with `x-api-key` and `anthropic-version:
/// 2023-06-01`, answered as server-sent events (`message_start`, `content_block_start`,
/// `content_block_delta` with `text_delta` or `input_json_delta`, `content_block_stop`, `message_delta`
/// with `stop_reason` and cumulative `usage`, `message_stop`, `ping`, `error`).
///
/// Prompt caching: the cached prefix is tools, then system, then messages up to a block marked
/// `cache_control: {type: "ephemeral"}`. A request with a shared context (`LLMRequest.sharedContext`)
/// sends it as the first user turn's first text block with that mark, so every call sharing it reads
/// tools, system and context from the cache; without one, only a system prompt long enough to be
/// cached at all (the model's minimum cacheable prefix) is sent as a marked block. Everything else is
/// a plain string, and `WireOptions.contentBlocks = false` (after a server refused blocks) sends plain
/// strings only, the shared context flattened into the first user turn.
///
/// Structured answers, strongest first (`StructuredOutputMode.ladder`): the native output format
/// (`output_config.format`, for the models that have it), one forced tool with `strict: true`, the
/// same tool without `strict`, the schema in the prompt. A step down happens only when the server's
/// error names what it refused.
struct AnthropicWire: ProviderWire {
    var baseURL: String
    var apiKey: String?
    /// The configured model, for what it supports (native structured outputs) and its minimum cacheable
    /// prompt; nil when unknown (then the forced strict tool, and no cache mark below 4,096 tokens).
    var model: String?

    static let apiVersion = "2023-06-01"

    var provider: LLMProvider { .anthropic }
    var requestIDHeader: String { "request-id" }

    /// The name of the structured-output tool for a purpose (`answer_masterplan`).
    static func toolName(for purpose: LLMRequest.Purpose) -> String { "answer_\(purpose.rawValue)" }

    func initialOptions(structured: Bool) -> WireOptions {
        let mode: StructuredOutputMode? = structured
            ? (Self.supportsNativeStructuredOutputs(model ?? "") ? .anthropicOutputFormat : .anthropicStrictTool) : nil
        return WireOptions(structuredMode: mode, sendTemperature: true, maxTokensField: .maxTokens, sendStreamOptions: false)
    }

    func makeRequest(_ request: LLMRequest, model: String, options: WireOptions) throws(LLMRequestEncodingError) -> WireRequest {
        var body: JSONObject = ["model": .string(model), "max_tokens": JSONValue(request.maxTokens), "stream": true]
        var system = request.system
        if let schema = request.jsonSchema, options.structuredMode?.schemaGoesInPrompt == true {
            system += schemaInstruction(schema)
        }
        if options.sendTemperature { body["temperature"] = .double(min(1, max(0, request.temperature))) }
        if let schema = request.jsonSchema, let mode = options.structuredMode {
            let name = Self.toolName(for: request.purpose)
            switch mode {
            case .anthropicOutputFormat:
                body["output_config"] = ["format": ["type": "json_schema", "schema": WireSchema.reduced(schema, for: .anthropicStrict)]]
            case .anthropicStrictTool, .anthropicTool:
                var tool: JSONObject = [
                    "name": .string(name),
                    "description": .string("Submit the complete answer. The tool input is the whole answer document and must follow the input schema exactly."),
                ]
                if mode == .anthropicStrictTool {
                    tool["strict"] = true
                    tool["input_schema"] = WireSchema.reduced(Self.objectSchema(schema), for: .anthropicStrict)
                } else {
                    tool["input_schema"] = Self.objectSchema(schema)
                }
                body["tools"] = [.object(tool)]
                body["tool_choice"] = ["type": "tool", "name": .string(name)]
            default:
                break
            }
        }
        let cachePrefixChars = system.unicodeScalars.count + (body["tools"]?.jsonText.unicodeScalars.count ?? 0)
        if options.contentBlocks, !request.sharedContext.isEmpty {
            // The breakpoint after the shared context caches tools, system and context in one entry.
            if !system.isEmpty { body["system"] = .string(system) }
            body["messages"] = .array(Self.messagesWithCachedContext(request))
        } else {
            if !system.isEmpty {
                if options.contentBlocks, Self.isCacheable(estimatedTokens: cachePrefixChars / Self.charactersPerToken, model: self.model ?? model) {
                    body["system"] = [["type": "text", "text": .string(system), "cache_control": ["type": "ephemeral"]]]
                } else {
                    body["system"] = .string(system)
                }
            }
            body["messages"] = .array(request.flattenedMessages.map { ["role": .string($0.role.rawValue), "content": .string($0.content)] })
        }
        var headers: [(name: String, value: String)] = [
            ("content-type", "application/json"),
            ("accept", "text/event-stream"),
            ("anthropic-version", Self.apiVersion),
        ]
        if let apiKey { headers.append(("x-api-key", apiKey)) }
        return WireRequest(url: baseURL + "/v1/messages", headers: headers, body: try JSONValue.object(body).requestBytes())
    }

    /// The messages with the shared context as the first user turn's first block, marked as the cache
    /// breakpoint, and that turn's own text as a second block.
    private static func messagesWithCachedContext(_ request: LLMRequest) -> [JSONValue] {
        let context: JSONValue = ["type": "text", "text": .string(request.sharedContext), "cache_control": ["type": "ephemeral"]]
        var messages: [JSONValue] = request.messages.map { ["role": .string($0.role.rawValue), "content": .string($0.content)] }
        if let first = request.messages.firstIndex(where: { $0.role == .user }) {
            var blocks = [context]
            // Anthropic refuses empty text blocks.
            if !request.messages[first].content.isEmpty { blocks.append(["type": "text", "text": .string(request.messages[first].content)]) }
            messages[first] = ["role": "user", "content": .array(blocks)]
        } else {
            messages.insert(["role": "user", "content": [context]], at: 0)
        }
        return messages
    }

    /// A tool's `input_schema` must be an object schema; any other schema is wrapped as `{"value": …}`
    /// (and unwrapped by the decoder).
    static func objectSchema(_ schema: JSONValue) -> JSONValue {
        if schema["type"]?.stringValue == "object" { return schema }
        return ["type": "object", "properties": ["value": schema], "required": ["value"], "additionalProperties": false]
    }

    func makeDecoder(for request: LLMRequest, options: WireOptions) -> any WireStreamDecoder {
        var decoder = AnthropicStreamDecoder()
        decoder.structured = request.jsonSchema != nil
        if let schema = request.jsonSchema, options.structuredMode?.answersInTool == true {
            decoder.toolName = Self.toolName(for: request.purpose)
            decoder.unwrapValue = schema["type"]?.stringValue != "object"
        }
        return decoder
    }

    /// Words in an error that name the native output format.
    private static let outputFormatTerms = ["output_config", "output_format", "output config", "output format",
                                            "structured output", "structured outputs", "structured-outputs", "json_schema"]
    /// Words in an error that name the forced tool choice (or tools altogether).
    private static let forcedToolTerms = ["tool_choice", "tool choice", "forced tool", "tool use", "tool_use", "tools"]
    /// Words in an error that name the content-block form of `system` and messages.
    private static let contentBlockTerms = ["system", "cache_control", "content block", "content blocks", "content_block",
                                            "content type", "content"]

    func adjustedOptions(after failure: ProviderFailure, current: WireOptions) -> WireOptions? {
        // Authentication, permission, rate limits and a full context window are not about the form.
        guard failure.status >= 400, ![401, 403, 408, 429].contains(failure.status), !failure.isContextWindow else { return nil }
        var next = current
        if current.sendTemperature, failure.status == 400 || failure.status == 422,
           failure.names(anyOf: ["temperature", "sampling"]) {
            next.sendTemperature = false
            return next
        }
        // A structured form steps down only when the error names it (any status: gateways wrap a
        // backend's 400 in a 500); a bare 500 is a server error for the retry policy.
        switch current.structuredMode {
        case .anthropicOutputFormat? where failure.names(anyOf: Self.outputFormatTerms):
            next.structuredMode = .anthropicStrictTool
            return next
        case .anthropicStrictTool? where failure.names(anyOf: ["strict", "input_schema", "schema"]):
            next.structuredMode = .anthropicTool
            return next
        case .anthropicStrictTool?, .anthropicTool?:
            if failure.names(anyOf: Self.forcedToolTerms) {
                next.structuredMode = .promptOnly
                return next
            }
        default:
            break
        }
        if current.contentBlocks, failure.names(anyOf: Self.contentBlockTerms) {
            next.contentBlocks = false
            return next
        }
        return nil
    }
}

extension AnthropicWire {
    /// A Claude model's family and version read from its id: `claude-sonnet-4-5-20250929`,
    /// `claude-3-5-haiku-latest`, `anthropic/claude-opus-4-6`, `us.anthropic.claude-sonnet-4-5-v1:0`.
    struct ClaudeModel: Equatable {
        var family: String
        var major: Int
        var minor: Int

        init?(_ id: String) {
            let tokens = id.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
            guard let start = tokens.firstIndex(of: "claude") else { return nil }
            var family: String?
            var numbers: [Int] = []
            for token in tokens[(start + 1)...] {
                if family == nil, token != "latest", token.allSatisfy(\.isLetter) {
                    family = token // opus, sonnet, haiku, or a family named later
                } else if token.count <= 2, let number = Int(token), numbers.count < 2 {
                    numbers.append(number)
                } else {
                    break // a date, "latest", "v1": the version is complete
                }
            }
            guard let family, let major = numbers.first else { return nil }
            self.family = family
            self.major = major
            minor = numbers.count > 1 ? numbers[1] : 0
        }

        func isAtLeast(_ major: Int, _ minor: Int) -> Bool { (self.major, self.minor) >= (major, minor) }
    }

    /// Structured outputs (`output_config.format` and strict tools) are generally available for the
    /// Claude 4.5 models and later (Opus 4.5 and 4.6, Sonnet 4.5 and 4.6, Haiku 4.5); older models and
    /// names that are not Claude ids (a gateway's alias) start with the strict forced tool instead.
    static func supportsNativeStructuredOutputs(_ model: String) -> Bool {
        ClaudeModel(model)?.isAtLeast(4, 5) ?? false
    }

    /// Characters per token for estimating a prompt's length from its characters: English prose runs
    /// near four, code and other languages below, so dividing by four undercounts, and a prompt judged
    /// long enough is.
    static let charactersPerToken = 4

    /// Anthropic's minimum cacheable prompt length: a shorter prefix is not cached (and not charged as
    /// a cache write). 1,024 tokens for Sonnet 4.5 and earlier Sonnets and Opus 4.1 and earlier; 2,048
    /// for the Claude 3 Haikus and Sonnet 4.6 (the documented 1,024 did not cache in practice);
    /// 4,096 for Opus 4.5 and 4.6, Haiku 4.5 and any model not known here.
    static func minimumCacheableTokens(_ model: String) -> Int {
        guard let claude = ClaudeModel(model) else { return 4_096 }
        switch claude.family {
        case "sonnet":
            if !claude.isAtLeast(4, 6) { return 1_024 }
            return claude.major == 4 && claude.minor == 6 ? 2_048 : 4_096
        case "opus":
            return claude.isAtLeast(4, 5) ? 4_096 : 1_024
        case "haiku":
            return claude.major == 3 ? 2_048 : 4_096
        default:
            return 4_096
        }
    }

    static func isCacheable(estimatedTokens: Int, model: String) -> Bool {
        estimatedTokens >= minimumCacheableTokens(model)
    }
}

/// Decodes Anthropic's message stream.
///
/// In a tool mode the answer is the forced tool's input, assembled from every `tool_use` block of that
/// one call and their `input_json_delta`s in stream order: a gateway in front of an OpenAI-compatible
/// server has been seen to send the input as one block per token, each with its own index and the
/// call's id. A block with the call's id, or without an id but with the tool's name, continues the
/// call; a block with another id is another call and is not part of the answer. The assembled input
/// must parse as one JSON object, or the answer is an error, never a success with part of a document.
struct AnthropicStreamDecoder: WireStreamDecoder {
    /// The forced tool whose input is the answer, in a tool mode.
    var toolName: String?
    /// The answer schema was wrapped as `{"value": …}`.
    var unwrapValue = false
    var structured = false

    private(set) var isFinished = false
    private var model: String?
    private var stopReason: String?
    private var inputTokens: Int?
    private var outputTokens: Int?
    private var cacheRead: Int?
    private var cacheWrite: Int?
    private var sawMessageStart = false
    /// The answer call: whether it started, its id (empty while none was given), the indexes of its
    /// blocks, how many blocks and pieces made it, its streamed input and any whole inputs blocks carried.
    private var callStarted = false
    private var callID = ""
    private var callBlocks: Set<Int> = []
    private var callBlockCount = 0
    private var callPieceCount = 0
    private var toolJSON = ""
    /// Pieces of `toolJSON` were handed out as they streamed (not in a whole answer, not unwrapped).
    private var streamedInput = false
    private var wholeInputs: [JSONValue] = []
    private var text = ""

    var usage: LLMUsage {
        // Anthropic's input_tokens excludes cache reads and writes; LLMUsage.inputTokens counts every
        // prompt token. Absent cache counts mean no caching happened.
        guard let inputTokens else { return LLMUsage(outputTokens: outputTokens) }
        let read = cacheRead ?? 0
        let written = cacheWrite ?? 0
        return LLMUsage(inputTokens: inputTokens + read + written, outputTokens: outputTokens,
                        cachedInputTokens: read, cacheWriteInputTokens: written)
    }

    private var answersInTool: Bool { toolName != nil }

    /// Whether a `tool_use` block belongs to the answer call (starting the call with the first block
    /// of the forced tool).
    private mutating func joinsAnswerCall(_ block: JSONValue) -> Bool {
        guard let toolName else { return false }
        let id = block["id"]?.stringValue ?? ""
        let name = block["name"]?.stringValue ?? ""
        guard callStarted else {
            guard name == toolName else { return false }
            callStarted = true
            callID = id
            return true
        }
        if id.isEmpty { return name == toolName }
        if callID.isEmpty, name == toolName {
            callID = id
            return true
        }
        return id == callID
    }

    /// Takes a block of the answer call: its whole input when it carries one, a string input as a
    /// piece of the document. Returns the piece to deliver.
    private mutating func takeAnswerBlock(_ block: JSONValue, index: Int?) -> String? {
        if let index { callBlocks.insert(index) }
        callBlockCount += 1
        switch block["input"] {
        case .object(let object)? where !object.isEmpty:
            wholeInputs.append(.object(object))
        case .string(let piece)? where !piece.isEmpty:
            toolJSON += piece
            callPieceCount += 1
            return piece
        default:
            break
        }
        return nil
    }

    mutating func consume(_ event: ServerSentEvent) throws(WireFailure) -> [String] {
        let json: JSONValue
        do {
            json = try ServerSentEvent.parseJSON(event.dataBytes[...])
        } catch {
            throw .malformed("an event\(event.event.map { " \"\($0)\"" } ?? "") is not JSON (\(error.message)): \(excerpt(event.data))")
        }
        let type = json["type"]?.stringValue ?? event.event ?? ""
        switch type {
        case "message_start":
            guard let message = json["message"], message.objectValue != nil else {
                throw .malformed("message_start has no message object")
            }
            sawMessageStart = true
            model = message["model"]?.stringValue
            if let usage = message["usage"] { readUsage(usage) }
            return []
        case "content_block_start":
            guard let index = json["index"]?.countValue, let block = json["content_block"], let blockType = block["type"]?.stringValue else {
                throw .malformed("content_block_start without index or content_block.type: \(excerpt(event.data))")
            }
            if blockType == "tool_use", joinsAnswerCall(block) {
                guard let piece = takeAnswerBlock(block, index: index), !unwrapValue else { return [] }
                streamedInput = true
                return [piece]
            }
            callBlocks.remove(index) // an index reused by a block of something else
            if blockType == "text", let initial = block["text"]?.stringValue, !initial.isEmpty {
                text += initial
                return answersInTool ? [] : [initial]
            }
            return []
        case "content_block_delta":
            guard let index = json["index"]?.countValue, let delta = json["delta"], let deltaType = delta["type"]?.stringValue else {
                throw .malformed("content_block_delta without index or delta.type: \(excerpt(event.data))")
            }
            switch deltaType {
            case "text_delta":
                guard let piece = delta["text"]?.stringValue else { throw .malformed("text_delta without text") }
                text += piece
                return answersInTool ? [] : [piece]
            case "input_json_delta":
                guard let piece = delta["partial_json"]?.stringValue else { throw .malformed("input_json_delta without partial_json") }
                guard callBlocks.contains(index), !piece.isEmpty else { return [] }
                toolJSON += piece
                callPieceCount += 1
                // A wrapped schema is unwrapped at the end; streaming its wrapper would mislead the caller.
                if unwrapValue { return [] }
                streamedInput = true
                return [piece]
            default:
                // thinking_delta, signature_delta, citations_delta, …: not part of the answer.
                return []
            }
        case "content_block_stop":
            return []
        case "message_delta":
            if let reason = json["delta"]?["stop_reason"]?.stringValue { stopReason = reason }
            if let usage = json["usage"] { readUsage(usage) }
            return []
        case "message_stop":
            isFinished = true
            return []
        case "ping":
            return []
        case "error":
            let error = json["error"]
            let errorType = error?["type"]?.stringValue
            let message = error?["message"]?.stringValue ?? excerpt(event.data)
            let retryable = ["overloaded_error", "api_error", "rate_limit_error", "timeout_error"].contains(errorType ?? "")
            throw .provider(type: errorType, message: message, retryable: retryable)
        default:
            // New event types may be added to the protocol; they are ignored, as Anthropic asks.
            return []
        }
    }

    /// Usage counts are cumulative: a later event's value replaces an earlier one.
    private mutating func readUsage(_ usage: JSONValue) {
        if let value = usage["input_tokens"]?.countValue { inputTokens = value }
        if let value = usage["output_tokens"]?.countValue { outputTokens = value }
        if let value = usage["cache_read_input_tokens"]?.countValue { cacheRead = value }
        if let value = usage["cache_creation_input_tokens"]?.countValue { cacheWrite = value }
    }

    mutating func consumeWholeAnswer(_ body: [UInt8]) throws(WireFailure) -> [String] {
        let json: JSONValue
        do {
            json = try JSONValue.parse(body, options: JSONParseOptions(allowControlCharactersInStrings: true))
        } catch {
            throw .malformed("the answer is not JSON (\(error.message))")
        }
        if json["type"]?.stringValue == "error" {
            throw .provider(type: json["error"]?["type"]?.stringValue,
                            message: json["error"]?["message"]?.stringValue ?? "error", retryable: false)
        }
        guard let content = json["content"]?.arrayValue else { throw .malformed("the answer has no content array") }
        model = json["model"]?.stringValue
        stopReason = json["stop_reason"]?.stringValue
        if let usage = json["usage"] { readUsage(usage) }
        var pieces: [String] = []
        for block in content {
            switch block["type"]?.stringValue {
            case "text":
                let piece = block["text"]?.stringValue ?? ""
                text += piece
                if !answersInTool { pieces.append(piece) }
            case "tool_use":
                // Delivered by outcome() once the whole input is known to parse.
                if joinsAnswerCall(block) { _ = takeAnswerBlock(block, index: nil) }
            default:
                break
            }
        }
        isFinished = true
        return pieces
    }

    func outcome() throws(WireFailure) -> WireOutcome {
        guard let stopReason else {
            throw .cutOff(isFinished ? "the stream ended without a stop_reason"
                          : "the stream ended before message_stop (\(sawMessageStart ? "after" : "before") message_start)")
        }
        let reason = LLMStopReason(anthropic: stopReason)
        if reason == .contextWindow {
            // Structured or not, the answer is incomplete, and a larger max_tokens would not help.
            throw .contextWindow("the answer stopped because the model's context window is full (stop_reason \(stopReason)); shorten the prompt or use a model with a larger context window")
        }
        if structured, reason == .maxTokens {
            throw .truncated("the structured answer stopped at max_tokens, so its JSON is incomplete; raise maxTokens or ask for less")
        }
        if structured, reason == .refusal {
            throw .refused("the model refused to answer (stop_reason refusal)")
        }
        var trailing: String?
        if answersInTool {
            if callStarted {
                let document: String
                if !toolJSON.isEmpty {
                    document = toolJSON
                } else if wholeInputs.count > 1 {
                    throw .malformed("the answer tool's input arrived as \(wholeInputs.count) separate objects in \(callBlockCount) tool_use blocks, not as one document")
                } else {
                    document = wholeInputs.first?.jsonText ?? "{}"
                }
                guard let input = try? JSONValue.parse(document, options: JSONParseOptions(allowControlCharactersInStrings: true)),
                      input.objectValue != nil else {
                    throw .malformed("the answer tool's input is not one complete JSON object (assembled from \(callBlockCount) tool_use block\(callBlockCount == 1 ? "" : "s") and \(callPieceCount) input piece\(callPieceCount == 1 ? "" : "s"), stop_reason \(stopReason)): \(excerpt(document))")
                }
                if unwrapValue {
                    guard let value = input["value"] else { throw .malformed("the answer tool's input has no \"value\" member") }
                    trailing = value.jsonText
                } else if !streamedInput {
                    trailing = document // a whole input, or pieces of a whole answer: not delivered yet
                }
            } else if !text.isEmpty {
                trailing = text // the model answered in prose instead of calling the tool: let the parser find the JSON
            } else {
                throw .malformed("the answer tool was not called and there is no text")
            }
        }
        return WireOutcome(stopReason: reason, usage: usage, model: model, trailingText: trailing)
    }
}
