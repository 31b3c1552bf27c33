import Base
import Foundation
import JSON

/// One exchange of a cassette: what `masterplan replay-llm` answers to a request with this purpose and
/// key. The format (JSON lines) is documented in README.md, "LLM replay cassettes".
public struct CassetteEntry: Sendable, Hashable {
    /// A scripted provider failure, answered instead of a completion.
    public struct ScriptedError: Sendable, Hashable {
        /// The HTTP status (429, 500, 400, …).
        public var status: Int
        public var message: String
        public var type: String?
        /// The `retry-after` header to send, as written (seconds or an HTTP date).
        public var retryAfter: String?

        public init(status: Int, message: String, type: String? = nil, retryAfter: String? = nil) {
            self.status = status
            self.message = message
            self.type = type
            self.retryAfter = retryAfter
        }
    }

    /// `llm_calls.purpose` word of the request (`discovery`, `masterplan`, `atom`, …).
    public var purpose: String
    /// The request's key (e.g. `task-3/attempt-1`); `*` matches any key of the purpose.
    public var key: String
    /// The answer text (for a structured request, the JSON document as text).
    public var response: String
    /// The model named in the answer; the request's model when absent.
    public var model: String?
    /// OpenAI `finish_reason`: `stop` (default) or `length`, `content_filter`, …
    public var finishReason: String
    /// Token counts to report; absent means the replayed answer reports no usage (unknown).
    public var usage: LLMUsage?
    /// Wait this long before answering.
    public var delay: Duration?
    /// Answer pieces of at most this many characters (default 16).
    public var chunkCharacters: Int?
    /// Answer an HTTP error instead of a completion.
    public var error: ScriptedError?
    /// Informational: the recorded request's fingerprint, provider and time.
    public var fingerprint: String?
    public var provider: String?
    public var recordedAt: String?
    /// Line in the cassette file (1-based), for messages.
    public var line: Int

    public init(purpose: String, key: String, response: String, model: String? = nil, finishReason: String = "stop",
                usage: LLMUsage? = nil, delay: Duration? = nil, chunkCharacters: Int? = nil, error: ScriptedError? = nil,
                fingerprint: String? = nil, provider: String? = nil, recordedAt: String? = nil, line: Int = 0) {
        self.purpose = purpose
        self.key = key
        self.response = response
        self.model = model
        self.finishReason = finishReason
        self.usage = usage
        self.delay = delay
        self.chunkCharacters = chunkCharacters
        self.error = error
        self.fingerprint = fingerprint
        self.provider = provider
        self.recordedAt = recordedAt
        self.line = line
    }

    /// The entry as one cassette line (compact JSON, no newline).
    public var jsonLine: String {
        var object: JSONObject = ["purpose": .string(purpose), "key": .string(key)]
        if let model { object["model"] = .string(model) }
        object["response"] = .string(response)
        object["finish_reason"] = .string(finishReason)
        if let usage {
            var counts = JSONObject()
            if let value = usage.inputTokens { counts["input_tokens"] = JSONValue(value) }
            if let value = usage.outputTokens { counts["output_tokens"] = JSONValue(value) }
            if let value = usage.cachedInputTokens { counts["cached_tokens"] = JSONValue(value) }
            if let value = usage.cacheWriteInputTokens, value > 0 { counts["cache_write_tokens"] = JSONValue(value) }
            object["usage"] = .object(counts)
        }
        if let delay { object["delay_ms"] = JSONValue(max(0, delay.wholeMilliseconds)) }
        if let chunkCharacters { object["chunk_chars"] = JSONValue(chunkCharacters) }
        if let error {
            var failure: JSONObject = ["status": JSONValue(error.status), "message": .string(error.message)]
            if let type = error.type { failure["type"] = .string(type) }
            if let retryAfter = error.retryAfter { failure["retry_after"] = .string(retryAfter) }
            object["error"] = .object(failure)
        }
        if let fingerprint { object["fingerprint"] = .string(fingerprint) }
        if let provider { object["provider"] = .string(provider) }
        if let recordedAt { object["recorded_at"] = .string(recordedAt) }
        return JSONValue.object(object).jsonText
    }

    /// Reads one cassette line.
    public init(json: JSONValue, line: Int) throws(CassetteError) {
        func fail(_ message: String) -> CassetteError { CassetteError(line: line, message: message) }
        guard let object = json.objectValue else { throw fail("an entry must be a JSON object, found \(json.typeName)") }
        let known: Set<String> = ["purpose", "key", "response", "model", "finish_reason", "usage", "delay_ms", "chunk_chars",
                                  "error", "fingerprint", "provider", "recorded_at", "comment"]
        if let unknown = object.keys.first(where: { !known.contains($0) }) {
            throw fail("unknown member \"\(unknown)\" (members: \(known.sorted().joined(separator: ", ")))")
        }
        func text(_ name: String) throws(CassetteError) -> String? {
            guard let value = object[name], !value.isNull else { return nil }
            guard let string = value.stringValue else { throw fail("\"\(name)\" must be a string") }
            return string
        }
        func count(_ value: JSONValue?, _ name: String) throws(CassetteError) -> Int? {
            guard let value, !value.isNull else { return nil }
            guard let int = value.intValue, int >= 0 else { throw fail("\"\(name)\" must be a whole number ≥ 0") }
            return Int(int)
        }
        guard let purpose = try text("purpose"), !purpose.isEmpty else { throw fail("\"purpose\" is required") }
        guard LLMRequest.Purpose(rawValue: purpose) != nil else {
            throw fail("\"purpose\" \"\(purpose)\" is not one of \(LLMRequest.Purpose.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let key = try text("key") else { throw fail("\"key\" is required (use \"*\" to match any key of the purpose)") }
        var scripted: ScriptedError?
        if let failure = object["error"], !failure.isNull {
            guard let status = try count(failure["status"], "error.status"), (400...599).contains(status) else {
                throw fail("\"error.status\" must be an HTTP error status (400–599)")
            }
            let retryAfter = failure["retry_after"].flatMap { $0.stringValue ?? $0.intValue.map { String($0) } }
            scripted = ScriptedError(status: status, message: failure["message"]?.stringValue ?? "scripted error",
                                     type: failure["type"]?.stringValue, retryAfter: retryAfter)
        }
        let response = try text("response")
        guard response != nil || scripted != nil else { throw fail("\"response\" is required (or \"error\")") }
        var usage: LLMUsage?
        if let counts = object["usage"], !counts.isNull {
            guard counts.objectValue != nil else { throw fail("\"usage\" must be an object") }
            usage = LLMUsage(inputTokens: try count(counts["input_tokens"], "usage.input_tokens"),
                             outputTokens: try count(counts["output_tokens"], "usage.output_tokens"),
                             cachedInputTokens: try count(counts["cached_tokens"], "usage.cached_tokens"),
                             cacheWriteInputTokens: try count(counts["cache_write_tokens"], "usage.cache_write_tokens"))
        }
        let delay = try count(object["delay_ms"], "delay_ms").map { Duration.milliseconds($0) }
        let chunk = try count(object["chunk_chars"], "chunk_chars")
        if chunk == 0 { throw fail("\"chunk_chars\" must be at least 1") }
        self.init(purpose: purpose, key: key, response: response ?? "", model: try text("model"),
                  finishReason: try text("finish_reason") ?? "stop", usage: usage, delay: delay, chunkCharacters: chunk,
                  error: scripted, fingerprint: try text("fingerprint"), provider: try text("provider"),
                  recordedAt: try text("recorded_at"), line: line)
    }
}

/// A cassette: entries in file order.
public struct Cassette: Sendable {
    public var entries: [CassetteEntry]

    public init(entries: [CassetteEntry]) {
        self.entries = entries
    }

    /// Reads a cassette file: one JSON object per line; blank lines and lines starting with `#` are skipped.
    public static func load(path: String) throws(CassetteError) -> Cassette {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CassetteError(line: 0, message: "cannot read the cassette \(path): no such file or not readable")
        }
        do {
            return try parse(String(decoding: data, as: UTF8.self))
        } catch {
            throw CassetteError(line: error.line, message: "\(path)\(error.line > 0 ? ":\(error.line)" : ""): \(error.message)")
        }
    }

    /// Parses cassette text.
    public static func parse(_ text: String) throws(CassetteError) -> Cassette {
        var entries: [CassetteEntry] = []
        var number = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let json: JSONValue
            do {
                json = try JSONValue.parse(line)
            } catch {
                throw CassetteError(line: number, message: "not a JSON object on one line (\(error.message) at column \(error.column))")
            }
            entries.append(try CassetteEntry(json: json, line: number))
        }
        return Cassette(entries: entries)
    }
}

/// A cassette that cannot be read; `line` is 1-based (0 for the whole file).
public struct CassetteError: Error, Sendable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { message }
}
