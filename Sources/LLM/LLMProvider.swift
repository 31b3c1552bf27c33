/// The wire protocol a model is reached through; the raw values are those of `llm_calls.provider`.
public enum LLMProvider: String, Sendable, CaseIterable, Hashable {
    /// Anthropic's Messages API (`POST /v1/messages`).
    case anthropic
    /// OpenAI's Chat Completions API at api.openai.com.
    case openai
    /// Any server speaking the Chat Completions API: Ollama, vLLM, llama.cpp's server, LM Studio, `masterplan replay-llm`.
    case openAICompatible = "openai-compatible"
}
