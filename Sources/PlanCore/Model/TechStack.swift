/// The technologies the generated project uses; every atom's prompt carries it.
public struct TechStack: Sendable, Hashable {
    /// The main programming language, e.g. "Python 3.11".
    public var language: String
    /// The main framework, or nil when the project uses none.
    public var framework: String?
    /// The database, or nil when the project stores nothing.
    public var database: String?
    /// The shell command that runs the project's tests inside the sandbox, e.g. "pytest -q".
    public var testCommand: String
    /// Further libraries and tools.
    public var other: [String]

    public init(language: String, framework: String? = nil, database: String? = nil, testCommand: String,
                other: [String] = []) {
        self.language = language
        self.framework = framework
        self.database = database
        self.testCommand = testCommand
        self.other = other
    }
}
