/// How a structured (JSON schema) answer is asked for. Providers differ, and servers that claim the
/// same API accept different forms, so the client starts with the strongest form the provider has
/// and falls back (remembering what worked) when the server refuses it.
public enum StructuredOutputMode: String, Sendable, Hashable, CaseIterable {
    /// Anthropic: one tool whose `input_schema` is the schema, forced with `tool_choice: {type: "tool"}`.
    case anthropicTool = "anthropic_tool"
    /// Anthropic: `output_config: {format: {type: "json_schema", schema}}`, for models that refuse a
    /// forced tool choice.
    case anthropicOutputFormat = "anthropic_output_format"
    /// OpenAI: `response_format: {type: "json_schema", json_schema: {name, schema, strict: true}}`.
    case jsonSchema = "json_schema"
    /// llama.cpp's server form: `response_format: {type: "json_object", schema}` (grammar-enforced).
    case jsonObjectWithSchema = "json_object_schema"
    /// `response_format: {type: "json_object"}` with the schema written into the system prompt: valid
    /// JSON, conformance not enforced.
    case jsonObject = "json_object"
    /// No structured-output parameter at all; the schema is written into the system prompt.
    case promptOnly = "prompt_only"

    /// The order modes are tried in for a provider.
    static func ladder(for provider: LLMProvider) -> [StructuredOutputMode] {
        switch provider {
        case .anthropic: [.anthropicTool, .anthropicOutputFormat, .promptOnly]
        case .openai, .openAICompatible: [.jsonSchema, .jsonObjectWithSchema, .jsonObject, .promptOnly]
        }
    }

    /// True when the provider does not see the schema itself, so the system prompt must carry it.
    var schemaGoesInPrompt: Bool { self == .jsonObject || self == .promptOnly }
}
