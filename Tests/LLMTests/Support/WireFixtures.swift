import Base
import Foundation
import JSON
@testable import LLM
import Synchronization

/// Event streams exactly as the providers send them (field order, spacing and framing from their
/// documentation's examples).
enum AnthropicFixture {
    static func event(_ name: String, _ data: String) -> String { "event: \(name)\ndata: \(data)\n\n" }

    static func messageStart(model: String = "claude-sonnet-4-5-20250929", input: Int = 25, cacheRead: Int = 0,
                             cacheCreation: Int = 0) -> String {
        event("message_start", """
            {"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","content":[],"model":"\(model)","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":\(input),"cache_creation_input_tokens":\(cacheCreation),"cache_read_input_tokens":\(cacheRead),"output_tokens":1}}}
            """)
    }

    static func textBlock(_ pieces: [String], index: Int = 0) -> [String] {
        var events = [event("content_block_start", #"{"type":"content_block_start","index":\#(index),"content_block":{"type":"text","text":""}}"#),
                      event("ping", #"{"type": "ping"}"#)]
        for piece in pieces {
            events.append(event("content_block_delta",
                                #"{"type":"content_block_delta","index":\#(index),"delta":{"type":"text_delta","text":\#(JSONValue.string(piece).jsonText)}}"#))
        }
        events.append(event("content_block_stop", #"{"type":"content_block_stop","index":\#(index)}"#))
        return events
    }

    static func toolBlock(name: String, jsonPieces: [String], index: Int = 0) -> [String] {
        var events = [event("content_block_start",
                            #"{"type":"content_block_start","index":\#(index),"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"\#(name)","input":{}}}"#),
                      event("content_block_delta",
                            #"{"type":"content_block_delta","index":\#(index),"delta":{"type":"input_json_delta","partial_json":""}}"#)]
        for piece in jsonPieces {
            events.append(event("content_block_delta",
                                #"{"type":"content_block_delta","index":\#(index),"delta":{"type":"input_json_delta","partial_json":\#(JSONValue.string(piece).jsonText)}}"#))
        }
        events.append(event("content_block_stop", #"{"type":"content_block_stop","index":\#(index)}"#))
        return events
    }

    static func messageEnd(stopReason: String = "end_turn", output: Int = 15) -> [String] {
        [event("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"\#(stopReason)","stop_sequence":null},"usage":{"output_tokens":\#(output)}}"#),
         event("message_stop", #"{"type":"message_stop"}"#)]
    }

    static func textAnswer(_ pieces: [String], input: Int = 25, output: Int = 15, cacheRead: Int = 0, cacheCreation: Int = 0,
                           model: String = "claude-sonnet-4-5-20250929") -> [String] {
        [messageStart(model: model, input: input, cacheRead: cacheRead, cacheCreation: cacheCreation)] + textBlock(pieces)
            + messageEnd(output: output)
    }

    static func error(status: Int, type: String, message: String) -> ScriptedHTTPServer.Response {
        .body(status: status, reason: "Error", headers: [("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy")],
              #"{"type":"error","error":{"type":"\#(type)","message":"\#(message)"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}"#)
    }
}

enum OpenAIFixture {
    static func chunk(_ delta: String, finish: String? = nil, model: String = "gpt-4.1-mini-2025-04-14", usageNull: Bool = true) -> String {
        let reason = finish.map { "\"\($0)\"" } ?? "null"
        return "data: {\"id\":\"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG\",\"object\":\"chat.completion.chunk\",\"created\":1741570283,\"model\":\"\(model)\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_06737a9306\",\"choices\":[{\"index\":0,\"delta\":\(delta),\"logprobs\":null,\"finish_reason\":\(reason)}]\(usageNull ? ",\"usage\":null" : "")}\n\n"
    }

    static func usageChunk(prompt: Int, completion: Int, cached: Int = 0, model: String = "gpt-4.1-mini-2025-04-14") -> String {
        "data: {\"id\":\"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG\",\"object\":\"chat.completion.chunk\",\"created\":1741570283,\"model\":\"\(model)\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_06737a9306\",\"choices\":[],\"usage\":{\"prompt_tokens\":\(prompt),\"completion_tokens\":\(completion),\"total_tokens\":\(prompt + completion),\"prompt_tokens_details\":{\"cached_tokens\":\(cached),\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}\n\n"
    }

    static let done = "data: [DONE]\n\n"

    /// A standard stream: role, one chunk per piece, finish, usage (when given), [DONE].
    static func answer(_ pieces: [String], finish: String = "stop", usage: (Int, Int, Int)? = (12, 7, 0),
                       model: String = "gpt-4.1-mini-2025-04-14") -> [String] {
        var events = [chunk(#"{"role":"assistant","content":"","refusal":null}"#, model: model, usageNull: usage != nil)]
        for piece in pieces { events.append(chunk(#"{"content":\#(JSONValue.string(piece).jsonText)}"#, model: model, usageNull: usage != nil)) }
        events.append(chunk("{}", finish: finish, model: model, usageNull: usage != nil))
        if let usage { events.append(usageChunk(prompt: usage.0, completion: usage.1, cached: usage.2, model: model)) }
        events.append(done)
        return events
    }

    /// What llama.cpp's server (llama-cpp-python) sends: no usage chunk ever (measured).
    static func llamaCppAnswer(_ pieces: [String], finish: String? = "stop") -> [String] {
        func llama(_ delta: String, _ finish: String?) -> String {
            "data: {\"id\":\"chatcmpl-3f1c\",\"object\":\"chat.completion.chunk\",\"created\":1764000000,\"model\":\"smollm2\",\"choices\":[{\"index\":0,\"delta\":\(delta),\"logprobs\":null,\"finish_reason\":\(finish.map { "\"\($0)\"" } ?? "null")}]}\r\n\r\n"
        }
        var events = [llama(#"{"role":"assistant"}"#, nil)]
        for piece in pieces { events.append(llama(#"{"content":\#(JSONValue.string(piece).jsonText)}"#, nil)) }
        if let finish { events.append(llama("{}", finish)) }
        events.append("data: [DONE]\r\n\r\n")
        return events
    }

    static func error(status: Int, message: String, type: String = "invalid_request_error", param: String? = nil,
                      headers: [(String, String)] = []) -> ScriptedHTTPServer.Response {
        let paramJSON = param.map { "\"\($0)\"" } ?? "null"
        return .body(status: status, reason: "Error", headers: headers,
                     #"{"error":{"message":\#(JSONValue.string(message).jsonText),"type":"\#(type)","param":\#(paramJSON),"code":null}}"#)
    }
}

/// Records the waits a client asks for instead of sleeping, so retry tests run at once.
final class RecordedWaits: Sendable {
    private let waits = Mutex<[Duration]>([])
    var all: [Duration] { waits.withLock { $0 } }

    func policy(maxRetries: Int = 4) -> RetryPolicy {
        RetryPolicy(maxRetries: maxRetries, initialDelay: .milliseconds(100), maxDelay: .seconds(2), jitter: 0.5,
                    maxRetryAfter: .seconds(30)) { [self] duration in
            waits.withLock { $0.append(duration) }
        }
    }
}

/// Collects diagnostics reports.
final class CollectedDiagnostics: Sendable {
    private let reports = Mutex<[String]>([])
    var lines: [String] { reports.withLock { $0 } }
    var diagnostics: Logger {
        Logger { [self] line in reports.withLock { $0.append(line) } }
    }
}

extension LLMClient {
    /// A client for a test server, with recorded waits and collected diagnostics.
    static func forTest(_ provider: LLMProvider, baseURL: String, model: String = "claude-sonnet-4-5", apiKey: String? = "test-key",
                        waits: RecordedWaits = RecordedWaits(), diagnostics: CollectedDiagnostics = CollectedDiagnostics(),
                        recordPath: String? = nil, callLog: (any LLMCallLog)? = nil) throws -> LLMClient {
        let configuration = LLMConfiguration(provider: provider, model: model, baseURL: baseURL, apiKey: apiKey,
                                             recordPath: recordPath,
                                             timeouts: LLMTimeouts(connect: .seconds(2), idle: .seconds(60), total: .seconds(100)),
                                             retry: waits.policy())
        return try LLMClient(configuration: configuration, callLog: callLog, diagnostics: diagnostics.diagnostics)
    }

    /// Runs a call and collects its pieces.
    func collect(_ request: LLMRequest) async -> (pieces: [String], result: Result<LLMResult, LLMError>) {
        var pieces: [String] = []
        do {
            for try await event in stream(request) {
                switch event {
                case .text(let piece): pieces.append(piece)
                case .completed(let result): return (pieces, .success(result))
                }
            }
            return (pieces, .failure(LLMError(kind: .cancelled, message: "stream ended without a result", provider: configuration.provider,
                                              model: configuration.model)))
        } catch let error as LLMError {
            return (pieces, .failure(error))
        } catch {
            return (pieces, .failure(LLMError(kind: .cancelled, message: "unexpected \(error)", provider: configuration.provider,
                                              model: configuration.model)))
        }
    }
}

extension Result {
    var value: Success? { if case .success(let value) = self { value } else { nil } }
    var failure: Failure? { if case .failure(let error) = self { error } else { nil } }
}

func jsonBody(_ request: ScriptedHTTPServer.Request) throws -> JSONValue {
    try JSONValue.parse(request.body)
}
