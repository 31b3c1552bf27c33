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

/// What the API workers and the SSE relay need to know, read once at start (DESIGN.md §9).
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

    public init(databaseURL: String, jwtSecret: [UInt8], tokenLifetimeSeconds: Int64 = 3600,
                bodyLimit: Int = 1 << 20, defaultBudgetUSD: Double = 10, migrationsDirectory: String? = nil) {
        self.databaseURL = databaseURL
        self.jwtSecret = jwtSecret
        self.tokenLifetimeSeconds = tokenLifetimeSeconds
        self.bodyLimit = bodyLimit
        self.defaultBudgetUSD = defaultBudgetUSD
        self.migrationsDirectory = migrationsDirectory
    }

    /// Reads `MASTERPLAN_JWT_SECRET` and `MASTERPLAN_BUDGET_USD` from `environment`; the database URL
    /// and migrations folder are resolved by the caller (they have command-line overrides).
    public static func fromEnvironment(_ environment: [String: String], databaseURL: String,
                                       migrationsDirectory: String?) throws(ConfigurationError) -> APIConfiguration {
        let secret = try jwtSecret(from: environment)
        var budget = 10.0
        if let text = environment["MASTERPLAN_BUDGET_USD"], !text.isEmpty {
            guard let value = Double(text), value > 0, value.isFinite else {
                throw ConfigurationError(variable: "MASTERPLAN_BUDGET_USD",
                                         message: "must be a positive number of US dollars such as 25 or 7.50")
            }
            budget = value
        }
        return APIConfiguration(databaseURL: databaseURL, jwtSecret: secret, defaultBudgetUSD: budget,
                                migrationsDirectory: migrationsDirectory)
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
