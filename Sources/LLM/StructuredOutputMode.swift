/// How a structured (JSON schema) answer is asked for. Providers differ, and servers that claim the
/// same API accept different forms, so the client starts with the strongest form the provider has
/// and steps down (remembering what worked) only when the server refuses a form by naming it.
public enum StructuredOutputMode: String, Sendable, Hashable, CaseIterable {
    /// Anthropic's native structured outputs: `output_config: {format: {type: "json_schema", schema}}`;
    /// the answer is the text, decoded under the schema (reduced to Anthropic's subset).
    case anthropicOutputFormat = "anthropic_output_format"
    /// Anthropic: one tool with `strict: true` whose `input_schema` is the schema (reduced to Anthropic's
    /// subset), forced with `tool_choice: {type: "tool", name}`; the input is decoded under the schema.
    case anthropicStrictTool = "anthropic_strict_tool"
    /// Anthropic: the same forced tool without `strict`, the whole schema as `input_schema`: the model is
    /// asked to follow it, nothing enforces it.
    case anthropicTool = "anthropic_tool"
    /// OpenAI: `response_format: {type: "json_schema", json_schema: {name, schema, strict: true}}`.
    case jsonSchema = "json_schema"
    /// llama.cpp's server form: `response_format: {type: "json_object", schema}` (grammar-enforced).
    case jsonObjectWithSchema = "json_object_schema"
    /// `response_format: {type: "json_object"}` with the schema written into the system prompt: valid
    /// JSON, conformance not enforced.
    case jsonObject = "json_object"
    /// No structured-output parameter at all; the schema is written into the system prompt.
    case promptOnly = "prompt_only"

    /// The order modes are tried in for a provider, strongest first. A client steps only downwards;
    /// Anthropic models without native structured outputs start at `anthropicStrictTool`.
    static func ladder(for provider: LLMProvider) -> [StructuredOutputMode] {
        switch provider {
        case .anthropic: [.anthropicOutputFormat, .anthropicStrictTool, .anthropicTool, .promptOnly]
        case .openai, .openAICompatible: [.jsonSchema, .jsonObjectWithSchema, .jsonObject, .promptOnly]
        }
    }

    /// True when the provider does not see the schema itself, so the system prompt must carry it.
    var schemaGoesInPrompt: Bool { self == .jsonObject || self == .promptOnly }

    /// True when the answer is the input of the forced Anthropic tool rather than the text.
    var answersInTool: Bool { self == .anthropicStrictTool || self == .anthropicTool }
}
