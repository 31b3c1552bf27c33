import JSON
import NIOCore
import PlanCore

/// One cassette answer in OpenAI's Chat Completions shapes.
struct ReplayAnswer: Sendable {
    var id: String
    var created: Int
    var model: String
    var entry: CassetteEntry
    /// The prompt's tokens and cached tokens when the server simulates a provider's prompt cache
    /// (`PromptCacheSimulator`); they replace the entry's input and cached figures.
    var promptUsage: PromptCacheSimulator.Usage? = nil

    /// Characters per content chunk: the entry's `chunk_chars`, else 16, but never more than 4096 chunks.
    var pieceRanges: [Range<String.Index>] {
        let text = entry.response
        guard !text.isEmpty else { return [] }
        // In ASCII text without CR (which pairs with LF) every byte is one Character, so characters
        // can be counted as bytes instead of by finding grapheme boundaries.
        let bytewise = text.utf8.allSatisfy { $0 < 0x80 && $0 != UInt8(ascii: "\r") }
        let count = bytewise ? text.utf8.count : text.count
        let size = entry.chunkCharacters ?? max(16, (count + 4095) / 4096)
        var ranges: [Range<String.Index>] = []
        ranges.reserveCapacity(count / size + 1)
        var start = text.startIndex
        while start < text.endIndex {
            let end = (bytewise ? text.utf8.index(start, offsetBy: size, limitedBy: text.endIndex)
                                : text.index(start, offsetBy: size, limitedBy: text.endIndex)) ?? text.endIndex
            ranges.append(start..<end)
            start = end
        }
        return ranges
    }

    /// OpenAI's usage object: the entry's figures, or with a simulated prompt cache the prompt's own
    /// input and cached tokens and the entry's output tokens (estimated from the answer without them).
    var usageObject: JSONValue? {
        if let promptUsage {
            let output = entry.usage?.outputTokens ?? TokenEstimate.tokens(in: entry.response)
            return Self.usage(input: promptUsage.promptTokens, output: output, cached: promptUsage.cachedTokens)
        }
        guard let usage = entry.usage, let input = usage.inputTokens, let output = usage.outputTokens else { return nil }
        return Self.usage(input: input, output: output, cached: usage.cachedInputTokens ?? 0)
    }

    static func usage(input: Int, output: Int, cached: Int) -> JSONValue {
        ["prompt_tokens": JSONValue(input), "completion_tokens": JSONValue(output), "total_tokens": JSONValue(input + output),
         "prompt_tokens_details": ["cached_tokens": JSONValue(cached)]]
    }

    /// One `chat.completion.chunk` object.
    func chunk(delta: JSONValue, finishReason: String?, includeUsage: Bool) -> JSONValue {
        var object: JSONObject = ["id": .string(id), "object": "chat.completion.chunk", "created": JSONValue(created),
                                  "model": .string(model), "system_fingerprint": "masterplan-replay"]
        object["choices"] = [["index": 0, "delta": delta, "logprobs": nil,
                              "finish_reason": finishReason.map(JSONValue.string) ?? .null]]
        if includeUsage { object["usage"] = .null }
        return .object(object)
    }

    /// The `data:` events of the streamed answer: role, content pieces, finish, usage (when asked and
    /// known), `[DONE]`. Each is a slice of one buffer holding them all.
    ///
    /// A content event differs from the next only in its piece, so the chunk object is serialised once
    /// around a placeholder and each piece's JSON string is written in the placeholder's place: the
    /// same bytes as serialising every chunk, for a fraction of the work.
    func streamEvents(includeUsage: Bool) -> [ByteBuffer] {
        let text = entry.response
        let ranges = pieceRanges
        let contentTemplate = Self.split(chunk(delta: ["content": .string(Self.placeholder)], finishReason: nil, includeUsage: includeUsage),
                                         at: Self.placeholder)
        let eventOverhead = 8 + (contentTemplate.map { $0.head.count + $0.tail.count } ?? 300)
        var buffer = ByteBufferAllocator().buffer(capacity: text.utf8.count + text.utf8.count / 8
                                                      + (ranges.count + 4) * eventOverhead)
        var ends: [Int] = []
        ends.reserveCapacity(ranges.count + 4)
        func write(_ value: JSONValue) {
            buffer.writeStaticString("data: ")
            buffer.writeBytes((try? value.serializedBytes()) ?? Array("null".utf8))
            buffer.writeStaticString("\n\n")
            ends.append(buffer.writerIndex)
        }
        write(chunk(delta: ["role": "assistant", "content": ""], finishReason: nil, includeUsage: includeUsage))
        for range in ranges {
            if let contentTemplate {
                buffer.writeStaticString("data: ")
                buffer.writeBytes(contentTemplate.head)
                Self.writeJSONString(text[range], to: &buffer)
                buffer.writeBytes(contentTemplate.tail)
                buffer.writeStaticString("\n\n")
                ends.append(buffer.writerIndex)
            } else {
                write(chunk(delta: ["content": .string(String(text[range]))], finishReason: nil, includeUsage: includeUsage))
            }
        }
        write(chunk(delta: [:], finishReason: entry.finishReason, includeUsage: includeUsage))
        if includeUsage, let usage = usageObject {
            write(["id": .string(id), "object": "chat.completion.chunk", "created": JSONValue(created),
                   "model": .string(model), "system_fingerprint": "masterplan-replay", "choices": [],
                   "usage": usage])
        }
        buffer.writeStaticString("data: [DONE]\n\n")
        ends.append(buffer.writerIndex)
        var events: [ByteBuffer] = []
        events.reserveCapacity(ends.count)
        var start = 0
        for end in ends {
            // Slices share the buffer's storage: no copy per event. Always in range: `end` is a writer index.
            events.append(buffer.getSlice(at: start, length: end - start)!)
            start = end
        }
        return events
    }

    /// Stands for a content piece in the serialised chunk.
    static let placeholder = "\u{1}masterplan-piece\u{1}"

    /// The serialised value before and after the last occurrence of `piece`'s JSON string, or nil
    /// when it cannot be written or holds no such string. In a chunk object the content is the last
    /// string (only nulls follow it), so the id or model cannot be mistaken for it even if equal.
    static func split(_ value: JSONValue, at piece: String) -> (head: [UInt8], tail: [UInt8])? {
        guard let bytes = try? value.serializedBytes(), let marker = try? JSONValue.string(piece).serializedBytes(),
              bytes.count >= marker.count else { return nil }
        var start = bytes.count - marker.count
        while start >= 0 {
            if bytes[start..<(start + marker.count)].elementsEqual(marker) {
                return (Array(bytes[..<start]), Array(bytes[(start + marker.count)...]))
            }
            start -= 1
        }
        return nil
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Writes `text` as a JSON string exactly as `JSONValue.serializedBytes` does: `"` and `\`
    /// escaped, bytes below 0x20 as `\b \t \n \f \r` or `\u00XX`, everything else as it is.
    static func writeJSONString(_ text: Substring, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        let utf8 = text.utf8
        var runStart = utf8.startIndex
        var index = utf8.startIndex
        while index < utf8.endIndex {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
                utf8.formIndex(after: &index)
                continue
            }
            buffer.writeBytes(utf8[runStart..<index])
            switch byte {
            case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case 0x08: buffer.writeStaticString("\\b")
            case 0x09: buffer.writeStaticString("\\t")
            case 0x0A: buffer.writeStaticString("\\n")
            case 0x0C: buffer.writeStaticString("\\f")
            case 0x0D: buffer.writeStaticString("\\r")
            default:
                buffer.writeStaticString("\\u00")
                buffer.writeInteger(Self.hexDigits[Int(byte >> 4)])
                buffer.writeInteger(Self.hexDigits[Int(byte & 0xF)])
            }
            utf8.formIndex(after: &index)
            runStart = index
        }
        buffer.writeBytes(utf8[runStart..<utf8.endIndex])
        buffer.writeInteger(UInt8(ascii: "\""))
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
