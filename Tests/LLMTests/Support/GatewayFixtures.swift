import JSON
@testable import LLM

/// What gateways and OpenAI-compatible servers send where they differ from the providers themselves.
enum GatewayFixture {
    /// The forced tool's input as one `tool_use` block per token, as a LiteLLM gateway in front of an
    /// OpenAI-compatible server sent it: each token its own block with its own index, the call's id
    /// and name on every block (or, with `idOnFirstBlockOnly`, only the first block has the id; later
    /// ones repeat the name), each followed by its `input_json_delta`.
    static func perTokenToolBlocks(name: String, tokens: [String], firstIndex: Int = 0, id: String = "call_7f3a9c0e",
                                   idOnFirstBlockOnly: Bool = false) -> [String] {
        var events: [String] = []
        for (offset, token) in tokens.enumerated() {
            let index = firstIndex + offset
            let blockID = idOnFirstBlockOnly && offset > 0 ? "" : id
            events.append(AnthropicFixture.event("content_block_start",
                #"{"type":"content_block_start","index":\#(index),"content_block":{"type":"tool_use","id":"\#(blockID)","name":"\#(name)","input":{}}}"#))
            events.append(AnthropicFixture.event("content_block_delta",
                #"{"type":"content_block_delta","index":\#(index),"delta":{"type":"input_json_delta","partial_json":\#(JSONValue.string(token).jsonText)}}"#))
            events.append(AnthropicFixture.event("content_block_stop", #"{"type":"content_block_stop","index":\#(index)}"#))
        }
        return events
    }

    /// A document cut into pieces of about `size` characters, the way a tokenizer would stream it.
    static func tokens(of document: String, size: Int = 3) -> [String] {
        var pieces: [String] = []
        var rest = Substring(document)
        while !rest.isEmpty {
            pieces.append(String(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        return pieces
    }

    /// A tool block whose content_block_start carries its own id (a second, separate call).
    static func toolBlock(name: String, id: String, jsonPieces: [String], index: Int) -> [String] {
        AnthropicFixture.toolBlock(name: name, jsonPieces: jsonPieces, index: index).enumerated().map { offset, event in
            offset == 0 ? event.replacingOccurrences(of: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", with: id) : event
        }
    }

    /// What the LiteLLM gateway answered when its backing server refused `system` as an array of blocks.
    static let systemArrayRefused = ScriptedHTTPServer.Response.body(
        status: 500, reason: "Internal Server Error",
        #"{"error":{"message":"litellm.APIConnectionError: OpenAIException - Error code: 500 - {'error': {'code': 500, 'message': \"Expected 'system' message content to be a string\", 'type': 'server_error'}}","type":null,"param":null,"code":"500"}}"#)

    /// Anthropic's answer to a bare internal error: nothing in it names a parameter.
    static let anthropicInternalError = AnthropicFixture.error(status: 500, type: "api_error", message: "Internal server error")

    /// llama.cpp's server when the prompt does not fit its context (HTTP 400).
    static let llamaCppContextExceeded = ScriptedHTTPServer.Response.body(
        status: 400, reason: "Bad Request",
        #"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5120,"n_ctx":4096}}"#)
}
