import Crypto
import JSON

extension LLMRequest {
    /// A digest of what the model is asked (purpose, key, system prompt, messages, temperature, token
    /// limit, schema), not of where: the same request to another model or provider has the same
    /// fingerprint. `sha256:` followed by 64 hex digits.
    public var fingerprint: String {
        var object: JSONObject = [
            "purpose": .string(purpose.rawValue),
            "key": .string(key),
            "system": .string(system),
            "messages": .array(messages.map { ["role": .string($0.role.rawValue), "content": .string($0.content)] }),
            "temperature": .double(temperature),
            "max_tokens": JSONValue(maxTokens),
        ]
        object["json_schema"] = jsonSchema ?? .null
        if !sharedContext.isEmpty { object["shared_context"] = .string(sharedContext) }
        let digest = SHA256.hash(data: Array(JSONValue.object(object).jsonText.utf8))
        return "sha256:" + digest.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
    }
}
