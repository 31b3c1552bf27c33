import Foundation
import Store

/// A setting that is missing or wrong; `description` is the one line the process prints before it
/// exits, naming the variable and the form it should take.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var variable: String
    public var message: String

    public init(variable: String, message: String) {
        self.variable = variable
        self.message = message
    }

    public var description: String { "\(variable) \(message)" }
}

/// What the API workers and the SSE relay need to know, read once at start (README "Configuration").
public struct APIConfiguration: Sendable {
    /// libpq conninfo or URL.
    public var databaseURL: String
    /// HS256 key, at least 32 bytes.
    public var jwtSecret: [UInt8]
    /// How long a login's token is valid, in seconds.
    public var tokenLifetimeSeconds: Int64
    /// The largest request body a worker reads (nginx's `client_max_body_size` should match).
    public var bodyLimit: Int
    /// The budget of a plan whose request does not name one, in USD.
    public var defaultBudgetUSD: Double
    /// The folder of `NNNN_name.sql` files `/health/ready` compares the schema with; nil when not found.
    public var migrationsDirectory: String?
    /// True when a scripted demo model answers (`MASTERPLAN_DEMO_MODEL=1`, set by `masterplan up`): the
    /// API says so on `/health/ready` and `/me`, and the UI shows it.
    public var demoModel: Bool
    /// The model's name from `MASTERPLAN_LLM` (`anthropic:MODEL`, `openai-compatible:MODEL@URL`), when set.
    public var modelName: String?
    /// How failed logins slow down the next ones, per account and per client address
    /// (`MASTERPLAN_LOGIN_*`).
    public var loginThrottle: LoginThrottlePolicy

    public init(databaseURL: String, jwtSecret: [UInt8], tokenLifetimeSeconds: Int64 = 3600,
                bodyLimit: Int = 1 << 20, defaultBudgetUSD: Double = 10, migrationsDirectory: String? = nil,
                demoModel: Bool = false, modelName: String? = nil, loginThrottle: LoginThrottlePolicy = LoginThrottlePolicy()) {
        self.databaseURL = databaseURL
        self.jwtSecret = jwtSecret
        self.tokenLifetimeSeconds = tokenLifetimeSeconds
        self.bodyLimit = bodyLimit
        self.defaultBudgetUSD = defaultBudgetUSD
        self.migrationsDirectory = migrationsDirectory
        self.demoModel = demoModel
        self.modelName = modelName
        self.loginThrottle = loginThrottle
    }

    /// Reads `MASTERPLAN_JWT_SECRET`, `MASTERPLAN_BUDGET_USD`, `MASTERPLAN_DEMO_MODEL`, the
    /// `MASTERPLAN_LOGIN_*` throttle and the model name of `MASTERPLAN_LLM` from `environment`; the database URL
    /// and migrations folder are resolved by the caller (they have command-line overrides).
    public static func fromEnvironment(_ environment: [String: String], databaseURL: String,
                                       migrationsDirectory: String?) throws(ConfigurationError) -> APIConfiguration {
        let secret = try jwtSecret(from: environment)
        var budget = 10.0
        if let text = environment["MASTERPLAN_BUDGET_USD"], !text.isEmpty {
            guard let value = Double(text), value.isFinite, BodyLimits.budgetUSD.contains(value) else {
                throw ConfigurationError(variable: "MASTERPLAN_BUDGET_USD",
                                         message: "must be a number of US dollars from 0.01 to 1000000, such as 25 or 7.50")
            }
            budget = value
        }
        var demoModel = false
        if let text = environment["MASTERPLAN_DEMO_MODEL"]?.lowercased(), !text.isEmpty {
            switch text {
            case "1", "true", "yes": demoModel = true
            case "0", "false", "no": demoModel = false
            default:
                throw ConfigurationError(variable: "MASTERPLAN_DEMO_MODEL",
                                         message: "must be 1 (a scripted demo model answers) or 0, not \"\(text)\"")
            }
        }
        return APIConfiguration(databaseURL: databaseURL, jwtSecret: secret, defaultBudgetUSD: budget,
                                migrationsDirectory: migrationsDirectory, demoModel: demoModel,
                                modelName: modelName(fromLLMSetting: environment["MASTERPLAN_LLM"]),
                                loginThrottle: try loginThrottle(from: environment))
    }

    /// The login throttle from `MASTERPLAN_LOGIN_ACCOUNT_FAILURES`, `MASTERPLAN_LOGIN_ADDRESS_FAILURES`,
    /// `MASTERPLAN_LOGIN_WINDOW_SECONDS`, `MASTERPLAN_LOGIN_BACKOFF_SECONDS` and
    /// `MASTERPLAN_LOGIN_BACKOFF_MAX_SECONDS`; each unset one keeps `LoginThrottlePolicy`'s default.
    public static func loginThrottle(from environment: [String: String]) throws(ConfigurationError) -> LoginThrottlePolicy {
        var policy = LoginThrottlePolicy()
        func whole(_ variable: String, _ range: ClosedRange<Int>, _ meaning: String) throws(ConfigurationError) -> Int? {
            guard let text = environment[variable]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw ConfigurationError(variable: variable,
                                         message: "must be a whole number of \(meaning) from \(range.lowerBound) to \(range.upperBound), not \"\(text.prefix(40))\"")
            }
            return value
        }
        let week = 7 * 24 * 3600
        if let value = try whole("MASTERPLAN_LOGIN_ACCOUNT_FAILURES", 1...1_000_000, "failed logins") { policy.accountFailures = value }
        if let value = try whole("MASTERPLAN_LOGIN_ADDRESS_FAILURES", 1...1_000_000, "failed logins") { policy.addressFailures = value }
        if let value = try whole("MASTERPLAN_LOGIN_WINDOW_SECONDS", 1...week, "seconds") { policy.windowSeconds = value }
        if let value = try whole("MASTERPLAN_LOGIN_BACKOFF_SECONDS", 1...week, "seconds") { policy.backoffSeconds = value }
        if let value = try whole("MASTERPLAN_LOGIN_BACKOFF_MAX_SECONDS", 1...week, "seconds") { policy.maxBackoffSeconds = value }
        guard policy.backoffSeconds <= policy.maxBackoffSeconds else {
            throw ConfigurationError(variable: "MASTERPLAN_LOGIN_BACKOFF_SECONDS",
                                     message: "(\(policy.backoffSeconds)) must not be longer than MASTERPLAN_LOGIN_BACKOFF_MAX_SECONDS (\(policy.maxBackoffSeconds))")
        }
        guard policy.maxBackoffSeconds <= policy.windowSeconds else {
            throw ConfigurationError(variable: "MASTERPLAN_LOGIN_BACKOFF_MAX_SECONDS",
                                     message: "(\(policy.maxBackoffSeconds)) must not be longer than MASTERPLAN_LOGIN_WINDOW_SECONDS (\(policy.windowSeconds)): failures older than the window no longer count")
        }
        return policy
    }

    /// The model of a `MASTERPLAN_LLM` value: `MODEL` in `provider:MODEL` or `openai-compatible:MODEL@URL`.
    /// The API only shows it; the executor validates the setting.
    public static func modelName(fromLLMSetting setting: String?) -> String? {
        guard let setting = setting?.trimmingCharacters(in: .whitespaces), let colon = setting.firstIndex(of: ":") else { return nil }
        var model = Substring(setting[setting.index(after: colon)...])
        if let at = model.range(of: "@http") { model = model[..<at.lowerBound] }
        return model.isEmpty ? nil : String(model)
    }

    /// `MASTERPLAN_JWT_SECRET` as bytes, refusing a missing or short secret.
    public static func jwtSecret(from environment: [String: String]) throws(ConfigurationError) -> [UInt8] {
        let variable = "MASTERPLAN_JWT_SECRET"
        guard let value = environment[variable], !value.isEmpty else {
            throw ConfigurationError(variable: variable,
                                     message: "is not set: set it to at least \(TokenSigner.minimumSecretBytes) random bytes, e.g. the output of 'openssl rand -base64 48'")
        }
        let bytes = Array(value.utf8)
        guard bytes.count >= TokenSigner.minimumSecretBytes else {
            throw ConfigurationError(variable: variable,
                                     message: "is \(bytes.count) bytes long: it must be at least \(TokenSigner.minimumSecretBytes) bytes, e.g. the output of 'openssl rand -base64 48'")
        }
        return bytes
    }
}
