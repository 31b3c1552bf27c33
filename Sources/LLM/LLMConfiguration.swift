import Foundation

/// Where the model is and how to talk to it: `MASTERPLAN_LLM` and its companions.
///
/// `description` never shows the API key.
public struct LLMConfiguration: Sendable, CustomStringConvertible {
    public var provider: LLMProvider
    /// The model name sent to the provider.
    public var model: String
    /// Anthropic: the API root without `/v1` (`https://api.anthropic.com`); OpenAI and compatible: the
    /// root that `/chat/completions` is appended to (`https://api.openai.com/v1`).
    public var baseURL: String
    /// The secret key; nil for local servers that need none. Sent only in the `x-api-key` (Anthropic)
    /// or `Authorization: Bearer` (OpenAI) header, never logged.
    public var apiKey: String?
    /// `MASTERPLAN_LLM_RECORD`: the cassette file every exchange is appended to.
    public var recordPath: String?
    /// `MASTERPLAN_LLM_PRICES`: a price file overlaid on the bundled table.
    public var pricesPath: String?
    public var timeouts: LLMTimeouts
    public var retry: RetryPolicy

    public init(provider: LLMProvider, model: String, baseURL: String? = nil, apiKey: String? = nil,
                recordPath: String? = nil, pricesPath: String? = nil, timeouts: LLMTimeouts = .default,
                retry: RetryPolicy = .default) {
        self.provider = provider
        self.model = model
        self.baseURL = Self.trimmed(baseURL ?? Self.defaultBaseURL(for: provider))
        self.apiKey = apiKey
        self.recordPath = recordPath
        self.pricesPath = pricesPath
        self.timeouts = timeouts
        self.retry = retry
    }

    /// The variable that selects the model.
    public static let variable = "MASTERPLAN_LLM"
    /// What `MASTERPLAN_LLM` must look like.
    public static let expectedForm = "anthropic:MODEL, openai:MODEL or openai-compatible:MODEL@BASE_URL "
        + "(e.g. anthropic:claude-sonnet-4-5, openai:gpt-4.1-mini, openai-compatible:llama3.2@http://127.0.0.1:11434/v1)"

    public static func defaultBaseURL(for provider: LLMProvider) -> String {
        switch provider {
        case .anthropic: "https://api.anthropic.com"
        case .openai: "https://api.openai.com/v1"
        case .openAICompatible: "http://127.0.0.1:8080/v1"
        }
    }

    /// Reads `MASTERPLAN_LLM`, `ANTHROPIC_API_KEY` / `OPENAI_API_KEY`, the optional `ANTHROPIC_BASE_URL` /
    /// `OPENAI_BASE_URL` (same meaning as in the providers' SDKs), `MASTERPLAN_LLM_RECORD` and
    /// `MASTERPLAN_LLM_PRICES`. A missing or malformed value fails with one line naming the variable and
    /// the form it should take.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(LLMConfigurationError) -> LLMConfiguration {
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        guard let setting = value(variable) else {
            throw LLMConfigurationError(variable: variable, message: "\(variable) is not set: expected \(expectedForm)")
        }
        guard let colon = setting.firstIndex(of: ":") else {
            throw LLMConfigurationError(variable: variable,
                                        message: "\(variable)=\(setting) is not valid: expected \(expectedForm)")
        }
        let kind = String(setting[..<colon])
        let rest = String(setting[setting.index(after: colon)...])
        guard let provider = LLMProvider(rawValue: kind) else {
            throw LLMConfigurationError(variable: variable, message:
                "\(variable)=\(setting) names the unknown provider \"\(kind)\": expected \(expectedForm)")
        }
        var model = rest
        var baseURL: String?
        switch provider {
        case .openAICompatible:
            guard let at = rest.range(of: "@http://") ?? rest.range(of: "@https://") else {
                throw LLMConfigurationError(variable: variable, message:
                    "\(variable)=\(setting) has no base URL: expected openai-compatible:MODEL@BASE_URL, e.g. openai-compatible:llama3.2@http://127.0.0.1:11434/v1")
            }
            model = String(rest[..<at.lowerBound])
            baseURL = String(rest[rest.index(after: at.lowerBound)...])
            if let problem = urlProblem(baseURL!) {
                throw LLMConfigurationError(variable: variable, message:
                    "\(variable)=\(setting): the base URL \(problem); expected openai-compatible:MODEL@http://HOST:PORT/v1")
            }
        case .anthropic, .openai:
            let overrideName = provider == .anthropic ? "ANTHROPIC_BASE_URL" : "OPENAI_BASE_URL"
            if let override = value(overrideName) {
                if let problem = urlProblem(override) {
                    throw LLMConfigurationError(variable: overrideName, message:
                        "\(overrideName)=\(override): the URL \(problem); expected an http:// or https:// URL such as \(defaultBaseURL(for: provider))")
                }
                baseURL = override
            }
        }
        guard !model.isEmpty, !model.contains(where: \.isWhitespace) else {
            throw LLMConfigurationError(variable: variable, message:
                "\(variable)=\(setting) has \(model.isEmpty ? "no" : "a malformed") model name: expected \(expectedForm)")
        }
        var apiKey: String?
        switch provider {
        case .anthropic:
            guard let key = value("ANTHROPIC_API_KEY") else {
                throw LLMConfigurationError(variable: "ANTHROPIC_API_KEY", message:
                    "ANTHROPIC_API_KEY is not set: \(variable)=\(setting) needs an Anthropic API key (sk-ant-…) in ANTHROPIC_API_KEY")
            }
            apiKey = key
        case .openai:
            guard let key = value("OPENAI_API_KEY") else {
                throw LLMConfigurationError(variable: "OPENAI_API_KEY", message:
                    "OPENAI_API_KEY is not set: \(variable)=\(setting) needs an OpenAI API key (sk-…) in OPENAI_API_KEY")
            }
            apiKey = key
        case .openAICompatible:
            apiKey = value("OPENAI_API_KEY") // optional: local servers usually need none
        }
        if let key = apiKey, key.contains(where: { $0.isWhitespace || $0.isNewline }) {
            let name = provider == .anthropic ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY"
            throw LLMConfigurationError(variable: name, message: "\(name) contains whitespace: paste the key alone, without quotes or spaces")
        }
        return LLMConfiguration(provider: provider, model: model, baseURL: baseURL, apiKey: apiKey,
                                recordPath: value("MASTERPLAN_LLM_RECORD"), pricesPath: value("MASTERPLAN_LLM_PRICES"))
    }

    /// Why `text` is not a usable base URL, or nil.
    static func urlProblem(_ text: String) -> String? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https" else { return "\"\(text)\" is not an http:// or https:// URL" }
        guard let host = components.host, !host.isEmpty else { return "\"\(text)\" has no host" }
        if components.user != nil || components.password != nil {
            return "must not carry a user or password (put the key in OPENAI_API_KEY)"
        }
        if components.query != nil || components.fragment != nil { return "\"\(text)\" must not have a query or fragment" }
        return nil
    }

    static func trimmed(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    public var description: String {
        "\(provider.rawValue):\(model) at \(baseURL) (API key \(apiKey == nil ? "not set" : "set"))"
    }

    /// `MASTERPLAN_LLM`'s value for this configuration.
    public var settingValue: String {
        switch provider {
        case .openAICompatible: "openai-compatible:\(model)@\(baseURL)"
        case .anthropic, .openai: "\(provider.rawValue):\(model)"
        }
    }
}

/// How long a call may take.
public struct LLMTimeouts: Sendable, Hashable {
    /// Establishing the connection (and TLS).
    public var connect: Duration
    /// The longest silence while waiting for response bytes (reasoning models can think for minutes
    /// before their first token; a streaming server's keep-alives reset it).
    public var idle: Duration
    /// The whole call, retries and backoff included.
    public var total: Duration

    public init(connect: Duration = .seconds(10), idle: Duration = .seconds(300), total: Duration = .seconds(1800)) {
        self.connect = connect
        self.idle = idle
        self.total = total
    }

    public static let `default` = LLMTimeouts()
}

/// A configuration value that is missing or malformed: one line naming the variable and the expected form.
public struct LLMConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The environment variable at fault.
    public var variable: String
    public var message: String
    public var description: String { message }
}
