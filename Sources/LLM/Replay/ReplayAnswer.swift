import JSON

/// One cassette answer in OpenAI's Chat Completions shapes.
struct ReplayAnswer: Sendable {
    var id: String
    var created: Int
    var model: String
    var entry: CassetteEntry

    /// Characters per content chunk: the entry's `chunk_chars`, else 16, but never more than 4096 chunks.
    var pieces: [String] {
        let text = entry.response
        guard !text.isEmpty else { return [] }
        let count = text.count
        let size = entry.chunkCharacters ?? max(16, (count + 4095) / 4096)
        var pieces: [String] = []
        pieces.reserveCapacity(count / size + 1)
        var start = text.startIndex
        while start < text.endIndex {
            let end = text.index(start, offsetBy: size, limitedBy: text.endIndex) ?? text.endIndex
            pieces.append(String(text[start..<end]))
            start = end
        }
        return pieces
    }

    var usageObject: JSONValue? {
        guard let usage = entry.usage, let input = usage.inputTokens, let output = usage.outputTokens else { return nil }
        return ["prompt_tokens": JSONValue(input), "completion_tokens": JSONValue(output), "total_tokens": JSONValue(input + output),
                "prompt_tokens_details": ["cached_tokens": JSONValue(usage.cachedInputTokens ?? 0)]]
    }

    private func chunk(delta: JSONValue, finishReason: String?, includeUsage: Bool) -> JSONValue {
        var object: JSONObject = ["id": .string(id), "object": "chat.completion.chunk", "created": JSONValue(created),
                                  "model": .string(model), "system_fingerprint": "masterplan-replay"]
        object["choices"] = [["index": 0, "delta": delta, "logprobs": nil,
                              "finish_reason": finishReason.map(JSONValue.string) ?? .null]]
        if includeUsage { object["usage"] = .null }
        return .object(object)
    }

    /// The `data:` events of the streamed answer: role, content pieces, finish, usage (when asked and
    /// known), `[DONE]`.
    func streamEvents(includeUsage: Bool) -> [String] {
        func event(_ value: JSONValue) -> String { "data: \(value.jsonText)\n\n" }
        var events = [event(chunk(delta: ["role": "assistant", "content": ""], finishReason: nil, includeUsage: includeUsage))]
        for piece in pieces {
            events.append(event(chunk(delta: ["content": .string(piece)], finishReason: nil, includeUsage: includeUsage)))
        }
        events.append(event(chunk(delta: [:], finishReason: entry.finishReason, includeUsage: includeUsage)))
        if includeUsage, let usage = usageObject {
            events.append(event(["id": .string(id), "object": "chat.completion.chunk", "created": JSONValue(created),
                                 "model": .string(model), "system_fingerprint": "masterplan-replay", "choices": [],
                                 "usage": usage]))
        }
        events.append("data: [DONE]\n\n")
        return events
    }

    /// The non-streamed `chat.completion` object.
    var completionObject: JSONValue {
        var object: JSONObject = ["id": .string(id), "object": "chat.completion", "created": JSONValue(created),
                                  "model": .string(model), "system_fingerprint": "masterplan-replay"]
        object["choices"] = [["index": 0, "message": ["role": "assistant", "content": .string(entry.response), "refusal": nil],
                              "logprobs": nil, "finish_reason": .string(entry.finishReason)]]
        if let usage = usageObject { object["usage"] = usage }
        return .object(object)
    }
}
