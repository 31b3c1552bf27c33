import LLM

extension LLMConfiguration {
    /// The provider, model and base URL this process talks to, on one line — what `masterplan up` and
    /// `masterplan executor` print at start, e.g. `anthropic:claude-sonnet-4-5 at https://api.anthropic.com`.
    /// Never the API key (a base URL cannot carry credentials: `LLMConfiguration.fromEnvironment` refuses them).
    func effectiveModel(scripted: Bool) -> String {
        "\(provider.rawValue):\(model) at \(baseURL)" + (scripted ? " (a SCRIPTED demo model)" : "")
    }
}
