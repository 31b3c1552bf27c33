import JSON

/// Anthropic's Messages API: `POST {base}/v1/messages` with `x-api-key` and `anthropic-version:
/// 2023-06-01`, answered as server-sent events (`message_start`, `content_block_start`,
/// `content_block_delta` with `text_delta` or `input_json_delta`, `content_block_stop`, `message_delta`
/// with `stop_reason` and cumulative `usage`, `message_stop`, `ping`, `error`).
///
/// The system prompt is sent as one text block with `cache_control: {type: "ephemeral"}`, so repeated
/// calls with the same instructions read them from the prompt cache. A structured answer is asked for
/// as the input of one forced tool (`tools[0].input_schema`, `tool_choice: {type: "tool", name}`);
/// models that refuse a forced tool get `output_config.format` instead.
struct AnthropicWire: ProviderWire {
    var baseURL: String
    var apiKey: String?

    static let apiVersion = "2023-06-01"

    var provider: LLMProvider { .anthropic }
    var requestIDHeader: String { "request-id" }

    /// The name of the structured-output tool for a purpose (`answer_masterplan`).
    static func toolName(for purpose: LLMRequest.Purpose) -> String { "answer_\(purpose.rawValue)" }

    func initialOptions(structured: Bool) -> WireOptions {
        WireOptions(structuredMode: structured ? .anthropicTool : nil, sendTemperature: true,
                    maxTokensField: .maxTokens, sendStreamOptions: false)
    }

    func makeRequest(_ request: LLMRequest, model: String, options: WireOptions) throws(LLMRequestEncodingError) -> WireRequest {
        var body: JSONObject = ["model": .string(model), "max_tokens": JSONValue(request.maxTokens), "stream": true]
        var system = request.system
        if let schema = request.jsonSchema, options.structuredMode?.schemaGoesInPrompt == true {
            system += schemaInstruction(schema)
        }
        if !system.isEmpty {
            // One cacheable block: the prefix (tools, then system) is read from the cache on later calls.
            body["system"] = [["type": "text", "text": .string(system), "cache_control": ["type": "ephemeral"]]]
        }
        body["messages"] = .array(request.flattenedMessages.map { ["role": .string($0.role.rawValue), "content": .string($0.content)] })
        if options.sendTemperature { body["temperature"] = .double(min(1, max(0, request.temperature))) }
        if let schema = request.jsonSchema {
            switch options.structuredMode {
            case .anthropicTool:
                let name = Self.toolName(for: request.purpose)
                body["tools"] = [[
                    "name": .string(name),
                    "description": .string("Submit the complete answer. The tool input is the whole answer document and must follow the input schema exactly."),
                    "input_schema": Self.objectSchema(schema),
                ]]
                body["tool_choice"] = ["type": "tool", "name": .string(name)]
            case .anthropicOutputFormat:
                body["output_config"] = ["format": ["type": "json_schema", "schema": schema]]
            default:
                break
            }
        }
        var headers: [(name: String, value: String)] = [
            ("content-type", "application/json"),
            ("accept", "text/event-stream"),
            ("anthropic-version", Self.apiVersion),
        ]
        if let apiKey { headers.append(("x-api-key", apiKey)) }
        return WireRequest(url: baseURL + "/v1/messages", headers: headers, body: try JSONValue.object(body).requestBytes())
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
        if let schema = request.jsonSchema, options.structuredMode == .anthropicTool {
            decoder.toolName = Self.toolName(for: request.purpose)
            decoder.unwrapValue = schema["type"]?.stringValue != "object"
        }
        return decoder
    }

    func adjustedOptions(after failure: ProviderFailure, current: WireOptions) -> WireOptions? {
        guard failure.status == 400 || failure.status == 422 else { return nil }
        let text = failure.searchableText
        var next = current
        if current.sendTemperature, text.contains("temperature") || text.contains("sampling") {
            next.sendTemperature = false
            return next
        }
        switch current.structuredMode {
        case .anthropicTool where text.contains("tool_choice") || text.contains("tool choice") || text.contains("forced tool")
                                  || text.contains("tool use"):
            next.structuredMode = .anthropicOutputFormat
            return next
        case .anthropicOutputFormat where text.contains("output_config") || text.contains("output_format")
                                          || text.contains("format") || text.contains("json_schema") || text.contains("schema"):
            next.structuredMode = .promptOnly
            return next
        default:
            return nil
        }
    }
}

/// Decodes Anthropic's message stream.
struct AnthropicStreamDecoder: WireStreamDecoder {
    /// The forced tool whose input is the answer, in `.anthropicTool` mode.
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
    /// Content blocks by index: their type, and for the answer tool its streamed and initial input.
    private var blockTypes: [Int: String] = [:]
    private var toolBlock: Int?
    private var toolJSON = ""
    private var toolInitialInput: JSONValue?
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
            blockTypes[index] = blockType
            if blockType == "tool_use", let toolName, block["name"]?.stringValue == toolName, toolBlock == nil {
                toolBlock = index
                if let input = block["input"], let object = input.objectValue, !object.isEmpty { toolInitialInput = input }
            }
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
                guard index == toolBlock else { return [] }
                toolJSON += piece
                // A wrapped schema is unwrapped at the end; streaming its wrapper would mislead the caller.
                return unwrapValue ? [] : [piece]
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
        for (index, block) in content.enumerated() {
            switch block["type"]?.stringValue {
            case "text":
                let piece = block["text"]?.stringValue ?? ""
                text += piece
                if !answersInTool { pieces.append(piece) }
            case "tool_use" where toolName != nil && block["name"]?.stringValue == toolName && toolBlock == nil:
                toolBlock = index
                toolInitialInput = block["input"]
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
        if structured, reason == .maxTokens {
            throw .truncated("the structured answer stopped at max_tokens, so its JSON is incomplete; raise maxTokens or ask for less")
        }
        if structured, reason == .refusal {
            throw .refused("the model refused to answer (stop_reason refusal)")
        }
        var trailing: String?
        if answersInTool {
            if unwrapValue {
                let whole = toolJSON.isEmpty ? toolInitialInput : (try? JSONValue.parse(toolJSON))
                guard let value = whole?["value"] else {
                    throw .malformed("the answer tool's input has no \"value\" member")
                }
                trailing = value.jsonText
            } else if toolJSON.isEmpty {
                if let input = toolInitialInput {
                    trailing = input.jsonText
                } else if !text.isEmpty {
                    trailing = text // the model answered in prose instead of calling the tool: let the parser find the JSON
                } else {
                    throw .malformed("the answer tool was not called and there is no text")
                }
            }
        }
        return WireOutcome(stopReason: reason, usage: usage, model: model, trailingText: trailing)
    }
}
